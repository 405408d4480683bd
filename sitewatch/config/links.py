"""Links from configuration keys to the library parameters they set, so that each default is written once.

The library (``detector``, ``streams``) owns the defaults: its parameter dataclasses and constructors
say what a value is when nobody sets it. A configuration section declares a :class:`Link` per library
object it feeds; its fields take their defaults from the link (:meth:`Link.field`), and the library
object is built from the section by the link (:meth:`Link.build`), never by copying key after key.
``tests/sitewatch/test_config_links.py`` checks that every key and every library parameter is accounted
for, and that a default section builds the library's defaults.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Generic, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")

#: A share between 0 and 1.
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


class Conversion(NamedTuple):
    """How a configuration value becomes a library value (``to_library``) and back (``from_library``)."""

    to_library: Callable[[Any], Any]
    from_library: Callable[[Any], Any]


#: A YAML list that the library keeps as a tuple.
AS_TUPLE = Conversion(tuple, list)
#: One side length that the library keeps as a ``(width, height)`` pair.
SQUARE = Conversion(lambda side: (side, side), lambda size: size[0])
#: Megabytes in the configuration, bytes in the library.
MEGABYTES = Conversion(lambda mb: int(mb * 2**20), lambda size: size / 2**20)
#: Minutes in the configuration, seconds in the library.
MINUTES = Conversion(lambda minutes: minutes * 60.0, lambda seconds: seconds / 60.0)


@dataclass(frozen=True)
class Link(Generic[T]):
    """One library object fed by a configuration section.

    Attributes:
        target: the library dataclass, or the class or function whose keyword parameters are set.
        keys: configuration key to library parameter name.
        internal: library parameters deliberately without a key here: fixed by the library, set by
            the caller, or set from another section (say which in a comment).
        defaults: an object holding the defaults, when they are not ``target``'s own (the engine's
            PPE thresholds are ``EngineSettings().ppe``, not ``DecodeParams()``).
        convert: per configuration key, how its value differs in form from the library's.

    Example:
        >>> from streams.presence import FaceParams
        >>> link = Link(FaceParams, {"tries": "attempts"}, internal=frozenset({"agree", "min_face_px"}))
        >>> link.default("tries"), link.parameters() == {"attempts", "agree", "min_face_px"}
        (4, True)
    """

    target: Callable[..., T]
    keys: Mapping[str, str]
    internal: frozenset[str] = frozenset()
    defaults: object | None = None
    convert: Mapping[str, Conversion] = dataclasses.field(default_factory=dict)

    def parameters(self) -> frozenset[str]:
        """Every parameter of the library object: its dataclass fields, or its named parameters."""
        if dataclasses.is_dataclass(self.target):
            return frozenset(f.name for f in dataclasses.fields(self.target) if f.init)
        return frozenset(
            name
            for name, p in inspect.signature(self.target).parameters.items()
            if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        )

    def library_default(self, parameter: str) -> Any:
        """The library's default for ``parameter`` (in the library's form)."""
        if self.defaults is not None:
            return getattr(self.defaults, parameter)
        if dataclasses.is_dataclass(self.target):
            found = {f.name: f for f in dataclasses.fields(self.target)}[parameter]
            if found.default_factory is not dataclasses.MISSING:
                return found.default_factory()
            return found.default
        return inspect.signature(self.target).parameters[parameter].default

    def has_default(self, parameter: str) -> bool:
        """Whether the library gives ``parameter`` a default (a base URL, say, it does not)."""
        return self.library_default(parameter) not in (dataclasses.MISSING, inspect.Parameter.empty)

    def default(self, key: str) -> Any:
        """The default of configuration ``key``: the library's, in the configuration's form."""
        value = self.library_default(self.keys[key])
        return self.convert[key].from_library(value) if key in self.convert else value

    def field(self, key: str, **kwargs: Any) -> Any:
        """A pydantic ``Field`` for ``key`` whose default is the library's; ``kwargs`` go to ``Field``
        (bounds, description). A list default gets a factory, so no two sections share one."""
        value = self.default(key)
        if isinstance(value, list):
            return Field(default_factory=lambda: list(value), **kwargs)
        return Field(default=value, **kwargs)

    def arguments(self, section: BaseModel) -> dict[str, Any]:
        """The library parameters ``section`` sets, by name, in the library's form."""
        found: dict[str, Any] = {}
        for key, parameter in self.keys.items():
            value = getattr(section, key)
            found[parameter] = self.convert[key].to_library(value) if key in self.convert else value
        return found

    def build(self, section: BaseModel, **others: Any) -> T:
        """The library object with the values of ``section``; ``others`` are further parameters (the
        internal ones a caller or another section sets)."""
        return self.target(**self.arguments(section), **others)


class Strict(BaseModel):
    """Base of every configuration section: unknown keys are errors.

    ``LINKS`` lists the library objects the section feeds; ``OWN`` names its keys that belong to the
    configuration alone (no library parameter has their meaning), each with a reason in a comment.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    LINKS: ClassVar[tuple[Link[Any], ...]] = ()
    OWN: ClassVar[frozenset[str]] = frozenset()


def same_keys(target: Callable[..., T], *keys: str, **options: Any) -> Link[T]:
    """A :class:`Link` whose configuration keys have their library parameters' names.

    Example:
        >>> from streams.rules import Persistence
        >>> same_keys(Persistence, "k", "n", "min_duration_s").keys["k"]
        'k'
    """
    return Link(target, {key: key for key in keys}, **options)
