"""Notify's use cases: incoming events (`events`), the delivery worker (`delivery`), the
delivery log and channels for operators (`operators`), unsubscribing (`residents`) and the live
status stream (`stream`)."""
