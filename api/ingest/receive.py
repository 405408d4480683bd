"""An update as an edge box sends it to ``POST /api/v1/ingest/events``: its ``event`` part checked, the
update stored on the group-commit thread (:mod:`api.ingest.group_commit`, which commits it), the results
counted for Prometheus, and room made on a disk running low."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from prometheus_client import Counter
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.access.auth import Principal
from api.access.deps import reporting_site
from api.core.errors import InvalidError
from api.events.retention import LOW_DISK, apply_retention, retention_policy
from api.events.schemas import IngestEventIn, IngestResult
from api.http.services import Services, Slot
from api.ingest.group_commit import COMMITTER
from api.ingest.prepare import IngestError, Submission


def parse_update(event: bytes | None) -> IngestEventIn:
    """The update of an ingest body's ``event`` part.

    Raises:
        InvalidError: the part is missing, or it is not a valid update (the detail names each problem).
    """
    if event is None:
        raise InvalidError("missing part 'event'")
    try:
        return IngestEventIn.model_validate_json(event)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'event'}: {e['msg']}" for e in exc.errors())
        raise InvalidError(f"invalid event: {problems}") from None


async def receive(services: Services, *, principal: Principal, parts: dict[str, bytes]) -> IngestResult:
    """Store the update of ``parts`` (its ``event`` part and its files) sent by the edge key
    ``principal``, with the app's ``services`` (its committer, counters, store, settings and low-disk
    throttle).

    Raises:
        InvalidError: no valid ``event`` part.
        HTTPException: 403 for an update of a site that is not the key's.
        EventConflictError: the event id belongs to an event of another site (counted as refused).
        IngestError: a file is malformed, or its hash differs from the announced one (counted as refused).
    """
    update = parse_update(parts.pop("event", None))
    reporting_site(principal, update.site_id)
    counters = services.get(INGEST_COUNTERS)
    counter = counters.ingested
    # Stored on the group-commit thread, with the other updates arriving now (api.ingest.group_commit):
    # the hashing, file writes and transaction stay off the event loop, and one commit serves them all.
    committer = services.get(COMMITTER)
    try:
        result = await committer.submit(Submission(update, parts, principal.name))
    except IngestError:  # EventConflictError included
        counter.labels("refused").inc()
        raise
    counter.labels(result.status).inc()
    store = services.store
    if result.status == "disarmed":
        counters.disarmed.labels(update.site_id, update.kind).inc()
    elif (
        result.status == "stored"
        and parts
        and (free := store.free_mb()) is not None
        and free < services.settings.min_free_mb
    ):
        # The disk must never fill: make room now rather than at the next periodic pass.
        # One pass at a time and a few seconds apart (api.events.retention.Throttle): each frees the
        # shortfall.
        await run_in_threadpool(services.get(LOW_DISK).run, partial(_make_room, services))
    return result


def _make_room(services: Services) -> None:
    with services.sessions() as session:
        apply_retention(session, store=services.store, policy=retention_policy(services.settings))


@dataclass(frozen=True, slots=True)
class IngestCounters:
    """The Prometheus counters the ingest adds to (made with the app's metrics, :mod:`api.ops.prometheus`).

    Attributes:
        ingested: updates by result (``stored``, ``duplicate``, ``disarmed``, ``refused``).
        disarmed: violations acknowledged while their project was not active, by site and kind.
    """

    ingested: Counter
    disarmed: Counter


#: The counters of the app's ingest.
INGEST_COUNTERS: Slot[IngestCounters] = Slot("the ingest's counters")
