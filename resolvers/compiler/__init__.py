"""The compiled read path: a validated query answered by one SQL statement whose JSON the
database builds (PostgreSQL and SQLite), with the same access decisions, row counts and
FORBIDDEN entries as the strawberry executor, which answers whatever the compiler declines.

    walker.py     query + access decision -> plan (plan.py)
    emit.py       plan -> one SELECT (dialects.py: the JSON and value SQL of each database)
    binding.py    each request's arguments -> the statement's parameters
    statement.py  compiling to SQL text, the one round trip on the driver connection
    cache.py      statements per (document, operation, policy shape, variable structure)
    runtime.py    the strawberry extension that answers before the executor runs
    response.py   splicing the database's JSON into the HTTP response
"""

from resolvers.compiler.response import SplicedData, encode_response
from resolvers.compiler.runtime import CompiledReads, CompiledReadsExtension, Stats

__all__ = ["CompiledReads", "CompiledReadsExtension", "SplicedData", "Stats", "encode_response"]
