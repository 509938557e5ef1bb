"""From a validated query to a plan: the selection walked as graphql-core's executor walks it
(its own field collection: fragments, aliases, merged fields, @skip/@include), with the
caller's access decision applied as the resolvers apply it.

The compiler knows the resolvers it can replace by name (the root fields of schema/root.py,
the catalog's relations); any other field declines the whole request, so a field added to
the schema is served by the executor until the compiler learns it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    get_named_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import (
    FieldDetailsList,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)
from strawberry import Schema

from coalhub.catalog import ENTITIES, Entity, Relation
from policies.access import FieldAccess
from resolvers.compiler.binding import ConnectionBinding, NodeBinding, Request, names_of
from resolvers.compiler.documents import resolver_names, strawberry_field
from resolvers.compiler.plan import (
    ConnectionField,
    ConnectionPlan,
    Cursor,
    DeclineError,
    Denied,
    EdgeField,
    Edges,
    GlobalId,
    Literal,
    Many,
    Node,
    Nodes,
    ObjectField,
    ObjectPlan,
    One,
    PageFlag,
    PageInfo,
    PageInfoField,
    PathTemplate,
    Plan,
    RootCaller,
    RootConnection,
    RootField,
    RootNode,
    RootNodes,
    RootNull,
    Scalar,
    Site,
    TotalCount,
    by_subject,
    ordered,
)
from resolvers.compiler.values import value_kind

# the executor's FORBIDDEN messages (schema/base.py `readable`, schema/guard.py)
TYPE_MESSAGE = "无权访问 {0} 数据 / not permitted to read {0}"
FIELD_MESSAGE = "密级不足，无权查看 {0} / clearance too low for {0}"

# root resolvers the compiler answers for, by (module, qualified name)
ROOT_KINDS = {
    ("schema.root", "connection_field.<locals>.resolve"): "field",
    ("schema.root", "Query.districts"): "districts",
    ("schema.root", "Query.products"): "products",
    ("schema.root", "resolve_trajectory"): "trajectory",
    ("schema.audit", "audit_events"): "audit",
    ("schema.root", "Query.node"): "node",
    ("schema.root", "Query.nodes"): "nodes",
    ("schema.me", "me"): "me",
}
# schema/me.py's Caller, from the request context (see runtime.caller_values)
CALLER_ATTRIBUTES = frozenset(
    {"client_id", "department", "clearance", "district_code", "user_id", "purpose"}
    | {"readable_types"}
)
PAGE_FLAGS = frozenset({"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"})


@dataclass
class Walker:
    schema: Schema
    request: Request
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDetails]
    sites: list[Site] = field(default_factory=list)
    bindings: list[ConnectionBinding | NodeBinding] = field(default_factory=list)

    @property
    def graphql(self) -> GraphQLSchema:
        return self.schema._schema

    @property
    def config(self) -> Any:
        return self.schema.config

    def plan(self) -> Plan:
        query_type = self.graphql.query_type
        assert query_type is not None
        collected = collect_fields(
            self.graphql, self.fragments, self.request.variables, query_type, self.operation
        )
        if collected.new_defer_usages:
            raise DeclineError("@defer")
        roots = tuple(
            (key, self.root(query_type, key, details))
            for key, details in collected.grouped_field_set.items()
        )
        if not all(ordered(sites) for sites in by_subject(self.sites).values()):
            # which one the executor reports first depends on its scheduling: not ours to guess
            raise DeclineError("a refused subject at several positions")
        return Plan(roots, tuple(self.sites), tuple(self.bindings))

    # --- roots -----------------------------------------------------------------------------

    def root(self, query_type: GraphQLObjectType, key: str, details: FieldDetailsList) -> RootField:
        name = details[0].node.name.value
        if name == "__typename":
            return Literal(query_type.name)
        if name.startswith("__"):
            raise DeclineError("introspection")
        field_def = query_type.fields[name]
        module, qualname, _ = resolver_names(field_def)
        kind = ROOT_KINDS.get((module, qualname))
        if kind is None:
            raise DeclineError(f"root field {name}")
        if kind == "node":
            probe = NodeBinding(0, "", field_def, details[0].node)
            return self.node_item(probe, details, (key,), (key,))
        if kind == "nodes":
            return self.root_nodes(field_def, key, details)
        if kind == "me":
            return self.root_caller(field_def, details)
        entity = self.connection_entity(field_def)
        own_events = kind == "audit" and not self.request.access.can_read_type(entity.name)
        if not own_events and not self.request.access.can_read_type(entity.name):
            return RootNull(self.site_for_type(entity.name, (key,)))
        names = None if kind in ("districts", "products") else names_of(field_def, self.config)
        binding = ConnectionBinding(
            len(self.bindings),
            entity,
            "field" if kind == "audit" else kind,
            field_def,
            details[0].node,
            names,
            own_events,
        )
        connection = self.connection(field_def, details, entity, binding, (key,))
        return RootConnection(connection)

    def root_nodes(self, field_def: GraphQLField, key: str, details: FieldDetailsList) -> RootNodes:
        probe = NodeBinding(0, "", field_def, details[0].node, position=0)
        count = len(probe.global_ids(self.request))
        items = tuple(
            self.node_item(replace(probe, position=n), details, (key,), (key, n))
            for n in range(count)
        )
        return RootNodes(items)

    def node_item(
        self,
        probe: NodeBinding,
        details: FieldDetailsList,
        refused_at: PathTemplate,
        path: PathTemplate,
    ) -> RootNode | RootNull:
        """A node looked up by id (resolve_nodes): the type is checked before the row."""
        type_name = probe.global_id(self.request).type_name
        runtime_type = self.graphql.type_map.get(type_name)
        node_interface = self.graphql.type_map["Node"]
        if (
            type_name not in ENTITIES
            or not isinstance(runtime_type, GraphQLObjectType)
            or node_interface not in runtime_type.interfaces
        ):
            raise DeclineError("node id of no node type")  # BAD_ID, the executor's to say
        if not self.request.access.can_read_type(type_name):
            return RootNull(self.site_for_type(type_name, refused_at))
        binding = replace(probe, index=len(self.bindings), type_name=type_name)
        self.bindings.append(binding)
        target = self.object(runtime_type, details, ENTITIES[type_name], path)
        return RootNode(binding.index, target)

    def root_caller(self, field_def: GraphQLField, details: FieldDetailsList) -> RootCaller:
        caller_type = get_named_type(field_def.type)
        assert isinstance(caller_type, GraphQLObjectType)
        fields = []
        for key, subdetails in self.subfields(caller_type, details).items():
            name = subdetails[0].node.name.value
            if name == "__typename":
                fields.append((key, "__typename"))
                continue
            attribute = strawberry_field(caller_type.fields[name]).python_name
            if attribute not in CALLER_ATTRIBUTES:
                raise DeclineError(f"Caller.{name}")
            fields.append((key, attribute))
        return RootCaller(tuple(fields), caller_type.name)

    def connection_entity(self, field_def: GraphQLField) -> Entity:
        connection_type = get_named_type(field_def.type)
        assert isinstance(connection_type, GraphQLObjectType)
        edge_type = get_named_type(connection_type.fields["edges"].type)
        assert isinstance(edge_type, GraphQLObjectType)
        node_type = get_named_type(edge_type.fields["node"].type)
        if node_type.name not in ENTITIES:
            raise DeclineError("connection of no catalog type")
        return ENTITIES[node_type.name]

    # --- connections -----------------------------------------------------------------------

    def connection(
        self,
        field_def: GraphQLField,
        details: FieldDetailsList,
        entity: Entity,
        binding: ConnectionBinding,
        path: PathTemplate,
    ) -> ConnectionPlan:
        binding = replace(binding, expected=binding.shape(self.request))
        if binding.constant():
            binding = replace(binding, fixed=binding.parameters(self.request))
        self.bindings.append(binding)
        connection_type = get_named_type(field_def.type)
        assert isinstance(connection_type, GraphQLObjectType)
        fields: list[tuple[str, ConnectionField]] = []
        for key, subdetails in self.subfields(connection_type, details).items():
            name = subdetails[0].node.name.value
            if name == "__typename":
                fields.append((key, Literal(connection_type.name)))
            elif name == "totalCount":
                fields.append((key, TotalCount()))
            elif name == "pageInfo":
                fields.append((key, self.page_info(connection_type, subdetails)))
            elif name == "edges":
                fields.append((key, self.edges(connection_type, subdetails, entity, (*path, key))))
            elif name == "nodes":
                node_type = self.object_type(connection_type, "nodes")
                target = self.object(node_type, subdetails, entity, (*path, key, None))
                fields.append((key, Nodes(target)))
            else:
                raise DeclineError(f"connection field {name}")
        assert binding.expected is not None
        return ConnectionPlan(
            binding.index, entity, binding.expected, tuple(fields), binding.own_events
        )

    def page_info(self, connection_type: GraphQLObjectType, details: FieldDetailsList) -> PageInfo:
        page_type = self.object_type(connection_type, "pageInfo")
        fields: list[tuple[str, PageInfoField]] = []
        for key, subdetails in self.subfields(page_type, details).items():
            name = subdetails[0].node.name.value
            if name == "__typename":
                fields.append((key, Literal(page_type.name)))
            elif name in PAGE_FLAGS:
                fields.append((key, PageFlag(name)))
            else:
                raise DeclineError(f"page info field {name}")
        return PageInfo(tuple(fields))

    def edges(
        self,
        connection_type: GraphQLObjectType,
        details: FieldDetailsList,
        entity: Entity,
        path: PathTemplate,
    ) -> Edges:
        edge_type = self.object_type(connection_type, "edges")
        fields: list[tuple[str, EdgeField]] = []
        for key, subdetails in self.subfields(edge_type, details).items():
            name = subdetails[0].node.name.value
            if name == "__typename":
                fields.append((key, Literal(edge_type.name)))
            elif name == "cursor":
                fields.append((key, Cursor()))
            elif name == "node":
                node_type = self.object_type(edge_type, "node")
                target = self.object(node_type, subdetails, entity, (*path, None, key))
                fields.append((key, Node(target)))
            else:
                raise DeclineError(f"edge field {name}")
        return Edges(tuple(fields))

    # --- objects ---------------------------------------------------------------------------

    def object(
        self,
        runtime_type: GraphQLObjectType,
        details: FieldDetailsList,
        entity: Entity,
        path: PathTemplate,
    ) -> ObjectPlan:
        fields: list[tuple[str, ObjectField]] = []
        for key, subdetails in self.subfields(runtime_type, details).items():
            name = subdetails[0].node.name.value
            if name == "__typename":
                fields.append((key, Literal(runtime_type.name)))
            elif name.startswith("__"):
                raise DeclineError("introspection")
            else:
                field_def = runtime_type.fields[name]
                value = self.object_field(entity, name, field_def, subdetails, (*path, key))
                fields.append((key, value))
        if len(fields) > 50:
            raise DeclineError("more than 50 keys in one object")  # PostgreSQL's argument limit
        return ObjectPlan(entity, tuple(fields))

    def object_field(
        self,
        entity: Entity,
        name: str,
        field_def: GraphQLField,
        details: FieldDetailsList,
        path: PathTemplate,
    ) -> ObjectField:
        definition = strawberry_field(field_def)
        attribute = definition.python_name
        if attribute == "_id" and name == "id":
            return GlobalId(entity.name)
        if definition.base_resolver is None:
            return self.column(entity, attribute, name, field_def, path)
        relation = entity.relations.get(attribute)
        if relation is None:
            raise DeclineError(f"{entity.name}.{name} is not a catalog relation")
        return self.relation(entity, relation, field_def, details, path)

    def column(
        self, entity: Entity, attribute: str, name: str, field_def: GraphQLField, path: PathTemplate
    ) -> ObjectField:
        if attribute not in entity.columns:
            raise DeclineError(f"{entity.name}.{name} is not a catalog column")
        access, mask = self.request.access.field_access(entity.name, attribute)
        if access is FieldAccess.DENY:
            if is_non_null_type(field_def.type):
                raise DeclineError("a refused non-null field")  # the executor errors there
            subject = f"{entity.name}.{name}"
            return Denied(self.site(subject, FIELD_MESSAGE.format(subject), path))
        graphql_type = get_named_type(field_def.type)
        kind = value_kind(entity, attribute, graphql_type)
        if mask is not None and kind.name != "str":
            raise DeclineError("a mask on a non-string field")
        return Scalar(attribute, kind, mask)

    def relation(
        self,
        entity: Entity,
        relation: Relation,
        field_def: GraphQLField,
        details: FieldDetailsList,
        path: PathTemplate,
    ) -> ObjectField:
        _, _, names = resolver_names(field_def)
        target = ENTITIES[relation.target]
        readable = self.request.access.can_read_type(target.name)
        if relation.kind == "one":
            if "related" not in names:
                raise DeclineError("a relation field not resolved by `related`")
            if not readable:
                return Denied(self.site_for_type(target.name, path), foreign_key=relation.local)
            target_type = get_named_type(field_def.type)
            assert isinstance(target_type, GraphQLObjectType)
            return One(relation, self.object(target_type, details, target, path))
        if "child_connection" not in names and "_weigh_records" not in names:
            raise DeclineError("a connection field not resolved by `child_connection`")
        if not readable:
            return Denied(self.site_for_type(target.name, path))
        binding = ConnectionBinding(
            len(self.bindings),
            target,
            "field",
            field_def,
            details[0].node,
            names_of(field_def, self.config),
        )
        return Many(relation, self.connection(field_def, details, target, binding, path))

    # --- helpers ---------------------------------------------------------------------------

    def subfields(
        self, runtime_type: GraphQLObjectType, details: FieldDetailsList
    ) -> dict[str, FieldDetailsList]:
        collected = collect_subfields(
            self.graphql, self.fragments, self.request.variables, self.operation, runtime_type,
            details,
        )  # fmt: skip
        if collected.new_defer_usages:
            raise DeclineError("@defer")
        return collected.grouped_field_set

    def object_type(self, parent: GraphQLObjectType, name: str) -> GraphQLObjectType:
        found = get_named_type(parent.fields[name].type)
        assert isinstance(found, GraphQLObjectType)
        return found

    def site(self, subject: str, message: str, path: PathTemplate) -> Site:
        site = Site(subject, message, path)
        self.sites.append(site)
        return site

    def site_for_type(self, type_name: str, path: PathTemplate) -> Site:
        return self.site(type_name, TYPE_MESSAGE.format(type_name), path)
