"""Entity schemas: which properties each Graph version has, their defaults and types.

A ``ResourceType`` describes one Graph collection generically (render per version,
validate a client's write, fill defaults), so adding a collection later (Conditional Access
policies, directory audits) is a new schema module plus one line in ``registry.py``;
routing, paging and storage need no change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphsim.odata import GraphError
from graphsim.timestamps import format_graph_datetime, parse_datetime_offset

VERSIONS = ("v1.0", "beta")
ALL_VERSIONS = frozenset(VERSIONS)
UNKNOWN_FUTURE_VALUE = "unknownFutureValue"

BOOLEAN = "Edm.Boolean"
INT32 = "Edm.Int32"
STRING = "Edm.String"
DATETIME = "Edm.DateTimeOffset"
_INT32_RANGE = range(-(2**31), 2**31)


@dataclass(frozen=True)
class Property:
    """One structural property. ``edm_type`` is an Edm primitive or an enum type name."""

    name: str
    edm_type: str
    default: Any = None
    nullable: bool = False
    versions: frozenset[str] = ALL_VERSIONS
    # Enum members per version; only set for enum properties.
    enum_members: Mapping[str, frozenset[str]] | None = None
    # Sent only when the scenario sets it (fields Graph sends on some tenants only).
    optional: bool = False

    def render(self, value: Any, version: str) -> Any:
        """The value as ``version`` shows it.

        Graph's enums are "evolvable": a member added after a version was frozen is sent to
        that version's clients as ``unknownFutureValue``. Values that are no member of any
        version (a scenario's deliberately bogus data) pass through untouched.
        """
        if self.enum_members is None or not isinstance(value, str):
            return value
        members = self.enum_members.get(version, frozenset())
        if value in members:
            return value
        known_elsewhere = any(value in m for m in self.enum_members.values())
        if known_elsewhere and UNKNOWN_FUTURE_VALUE in members:
            return UNKNOWN_FUTURE_VALUE
        return value

    def coerce_write(self, value: Any, version: str) -> Any:
        """Validate a client-written value the way Graph's OData reader would (400 if not)."""
        if value is None:
            if self.nullable:
                return None
            expected = f"{self.edm_type}[Nullable=False]"
            raise GraphError(
                400,
                f"A null value was found for the property named '{self.name}', which has the "
                f"expected type '{expected}'. The expected type '{expected}' does not allow "
                "null values.",
            )
        if self._accepts(value, version):
            if self.edm_type == DATETIME:
                parsed = parse_datetime_offset(value)
                assert parsed is not None  # _accepts checked it
                return format_graph_datetime(parsed)  # stored as Graph would echo it
            return value
        raise GraphError(
            400,
            f"Cannot convert the literal '{value}' to the expected type '{self.edm_type}'.",
        )

    def _accepts(self, value: Any, version: str) -> bool:
        if self.enum_members is not None:
            return isinstance(value, str) and value in self.enum_members.get(version, ())
        if self.edm_type == BOOLEAN:
            return isinstance(value, bool)
        if self.edm_type == INT32:
            return isinstance(value, int) and not isinstance(value, bool) and value in _INT32_RANGE
        if self.edm_type == STRING:
            return isinstance(value, str)
        if self.edm_type == DATETIME:
            return isinstance(value, str) and parse_datetime_offset(value) is not None
        raise AssertionError(f"schema bug: no validator for {self.edm_type}")


@dataclass(frozen=True)
class ResourceType:
    """A Graph entity set: where it lives, what its entities look like, what it allows."""

    type_name: str  # e.g. "microsoft.graph.mobileThreatDefenseConnector"
    collection_path: str  # without version prefix, canonical casing
    scenario_key: str  # the scenario file's key holding this collection's entities
    properties: tuple[Property, ...]
    collection_methods: frozenset[str] = frozenset({"GET", "POST"})
    item_methods: frozenset[str] = frozenset({"GET", "PATCH", "DELETE"})
    # Query options beyond $top/$skiptoken/$select, only where Graph documents them (see
    # querying.py): property path -> $filter operators; properties $orderby accepts; the
    # order a list has when the client asks for none, as (property, descending) pairs.
    filterable: Mapping[str, frozenset[str]] = field(default_factory=dict)
    orderable: frozenset[str] = frozenset()
    default_order: tuple[tuple[str, bool], ...] = ()
    # A polymorphic collection (e.g. deviceCompliancePolicies): derived type name (without
    # "#microsoft.graph.") -> its own properties; each entity names its type in "@odata.type",
    # which is rendered first, as Graph does. Empty: every entity is ``type_name``.
    subtypes: Mapping[str, tuple[Property, ...]] = field(default_factory=dict)
    # Navigation properties served only when asked for with $expand (e.g. "assignments"): stored
    # on the entity as the list Graph would expand.
    navigation: frozenset[str] = frozenset()
    _by_name: dict[str, Property] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {p.name: p for p in self.properties})

    def find_property(self, name: str, version: str | None = None) -> Property | None:
        """The property ``name`` if it exists (in ``version``, when given)."""
        prop = self._by_name.get(name)
        if prop is None or (version is not None and version not in prop.versions):
            return None
        return prop

    def scenario_names(self) -> set[str]:
        """Every key a scenario entity may carry: properties of every version and derived type,
        navigation properties, and "@odata.type" for a polymorphic collection."""
        names = set(self.property_names()) | set(self.navigation)
        if self.subtypes:
            names |= {"@odata.type"} | {p.name for props in self.subtypes.values() for p in props}
        return names

    def property_names(self, version: str | None = None) -> list[str]:
        return [p.name for p in self.properties if version is None or version in p.versions]

    def with_defaults(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """A stored entity: every property of every version present, given values kept raw.

        Storing the superset lets one entity be read through /v1.0 and /beta alike.
        """
        entity = {p.name: p.default for p in self.properties if not p.optional}
        entity.update(values)
        return entity

    def render(
        self,
        entity: Mapping[str, Any],
        version: str,
        select: Iterable[str] | None = None,
        expand: Iterable[str] = (),
    ) -> dict[str, Any]:
        """The full entity as ``version`` returns it (Graph always sends every property), with
        the derived type's own properties and the navigation properties in ``expand``."""
        names = self.property_names(version) if select is None else list(select)
        rendered: dict[str, Any] = {}
        own: tuple[Property, ...] = ()
        if self.subtypes:
            derived = str(entity.get("@odata.type") or "").lstrip("#").removeprefix("microsoft.graph.")
            rendered["@odata.type"] = f"#microsoft.graph.{derived}"
            own = tuple(p for p in self.subtypes.get(derived, ()) if version in p.versions)
        rendered.update(
            {
                name: self._by_name[name].render(entity.get(name), version)
                for name in names
                if name in entity or not self._by_name[name].optional
            }
        )
        for prop in own:
            if select is None or prop.name in names:
                rendered[prop.name] = prop.render(entity.get(prop.name, prop.default), version)
        for name in expand:
            rendered[name] = list(entity.get(name) or [])
        return rendered

    def check_expand(self, expand: list[str]) -> None:
        """400 for a navigation property this collection does not have (as Graph answers)."""
        for name in expand:
            if name not in self.navigation:
                raise GraphError(400, f"Could not find a property named '{name}' on type '{self.type_name}'.")

    def check_select(self, select: list[str], version: str) -> None:
        for name in select:
            if self.find_property(name, version) is None:
                raise GraphError(400, f"Could not find a property named '{name}' on type '{self.type_name}'.")

    def validate_write(self, body: Any, version: str) -> dict[str, Any]:
        """Check a POST/PATCH payload against ``version``'s schema; return coerced values."""
        if not isinstance(body, dict):
            raise GraphError(400, "The request payload must be a JSON object.")
        values: dict[str, Any] = {}
        for name, value in body.items():
            if name == "@odata.type":
                if str(value).lstrip("#") != self.type_name:
                    raise GraphError(400, f"The type '{value}' is not compatible with '{self.type_name}'.")
                continue
            prop = self.find_property(name, version)
            if prop is None:
                raise GraphError(
                    400,
                    f"The property '{name}' does not exist on type '{self.type_name}'. Make "
                    "sure to only use property names that are defined by the type.",
                )
            values[name] = prop.coerce_write(value, version)
        return values
