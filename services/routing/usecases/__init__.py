"""Routing's use cases, one module per audience: staff, operator, admin, accounts, incoming
events and deadlines. They receive their dependencies, change state through
`Transactions.run` and the stores, emit through the unit of work and raise only domain errors."""
