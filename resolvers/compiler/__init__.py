"""The compiled read path: a validated query answered by one SQL statement whose JSON the
database builds (PostgreSQL and SQLite), with the same access decisions, row counts and
FORBIDDEN entries as the strawberry executor, which answers whatever the compiler declines.

    documents.py  the operation, fragments, root fields, page-sizing variables and
                  strawberry fields of a request
    walker.py     query + access decision -> plan (plan.py), or a decline
    emit.py       plan -> one SELECT; levels.py (a level's rows and what it reports up),
                  pages.py (a connection's page), dialects.py (each database's JSON and
                  value SQL), values.py (how each column is written)
    binding.py    each request's arguments -> the statement's parameters
    statement.py  compiling to SQL text, the one round trip on a driver connection
    cache.py      statements per (document, operation, policy shape, variable structure)
    runtime.py    answering: inside strawberry's pipeline (the extension, before the
                  executor runs), and for prepared documents before that pipeline
                  (coalhub/endpoint.py)
    response.py   splicing the database's JSON into the HTTP response
"""

from resolvers.compiler.response import SplicedData, encode_response
from resolvers.compiler.runtime import CompiledReads, CompiledReadsExtension, Stats

__all__ = ["CompiledReads", "CompiledReadsExtension", "SplicedData", "Stats", "encode_response"]
