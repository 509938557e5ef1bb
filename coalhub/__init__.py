"""coalhub: the GraphQL data-sharing hub of Wuhai's coal supply-and-sales control platform."""

__version__ = "0.1.0"
