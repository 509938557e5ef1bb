"""Policy domains (district, enterprise) compiled into WHERE clauses through the catalog."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_

from coalhub.catalog import Entity
from policies.access import RowScope
from resolvers.sql import path_predicate


def scope_predicates(entity: Entity, scope: RowScope) -> list[ColumnElement[bool]]:
    if scope.unrestricted or entity.reference:
        return []
    allowed: list[ColumnElement[bool]] = []
    if scope.district_codes is not None and entity.district_path:
        allowed.append(
            path_predicate(entity, entity.district_path, "in", sorted(scope.district_codes))
        )
    if scope.enterprise_ids is not None:
        allowed.extend(
            path_predicate(entity, path, "in", sorted(scope.enterprise_ids))
            for path in entity.enterprise_paths
        )
    # a row outside every granted domain, or an entity with no route to one, stays hidden
    return [or_(*allowed) if allowed else false()]
