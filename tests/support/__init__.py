"""Helpers shared by test folders (import them from here, never from a conftest module):

* `data`: repository paths, the default policy, `require_shared_data`;
* `postgres`: `require_postgres`, `fresh_database`;
* `clock`: `Clock`, a clock the test moves by hand;
* `books`: `idem`, `new_member`, `spendable`, `check_books` (the ledger's invariants);
* `databases`: `MigratedDatabase`, one migrated database reset between Hypothesis examples;
* `api`: `Api`, a test client with one key per role, and `make_api` to build one on any database;
* `server`: `Server`, a real `datalever serve` subprocess;
* `blocked`: `BlockedLedger`, whose batches wait for the test (bounds of the batch queue).
"""
