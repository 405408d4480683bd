"""The delivery a request names, as a dependency: 404 for none."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from api.access.deps import IdPath, SessionDep
from api.core.errors import NotFoundError
from api.models import Delivery


def known_delivery(delivery_id: IdPath, session: SessionDep) -> Delivery:
    """The delivery ``delivery_id`` of the path (deliveries span sites: their routes are for admins of
    every site, so there is no scope to check).

    Raises:
        NotFoundError: no such delivery.
    """
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFoundError(f"no delivery {delivery_id}")
    return delivery


KnownDelivery = Annotated[Delivery, Depends(known_delivery)]
