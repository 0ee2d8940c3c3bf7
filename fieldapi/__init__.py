"""fieldapi: the backend of Dispatch Field and Dispatch Manager.

Layers, and which way imports point (`tests/test_import_directions.py` walks every
module's imports with `ast` and fails on a crossing that is not listed there):

    top       app, cli, config, periodic, onboarding, demo, demo_drive, status, models,
              health, server, localdb, openapi, migrations: wire the capabilities
              together; nothing below imports them.
    capabilities
              accounts, jobs, locations, messaging, eta, enterprise: one folder each (models,
              services, schemas, views). A capability reaches into another only through
              the public modules named below, never through its raw SQL.
    lifecycle PURE: the job/appointment state machine; imports nothing of fieldapi.
    ground    db, errors, settings, pagination, phones, paths, storage, input_guard,
              idempotency, extensions, metrics: used by everyone, import no capability
              (metrics counts the outbox in SQL at scrape time).

Between capabilities (importer -> what it may use):

    accounts  -> lifecycle (the actor of a principal); messaging.outbox and .templates
                 (passcode and invitation texts). accounts knows nothing of jobs: a new
                 organization's job defaults are added by `onboarding`.
    jobs      -> accounts.auth/.principal/.policy (who calls, roles);
                 accounts.organizations (the timezone and its check, an
                 organization's settings, the lock of an organization-wide list);
                 accounts.members (technicians as `Member`s); lifecycle;
                 eta.service/.model/.settings (on-my-way's ETA); messaging.outbox/.templates
                 (customer texts), messaging.optout_clause (a customer's
                 `texts_opted_out`), messaging.visit_texts (did a visit have its text).
                 jobs.models names accounts' `Organization` and
                 `User` by string in its relationships, importing them only for type
                 checking (the test ignores `if TYPE_CHECKING:` imports).
    messaging -> accounts.auth/.principal/.policy/.organizations (an organization's name);
                 jobs.activity (text outcomes go to the
                 job's log), jobs.visibility (a job's texts) and jobs.customers (who
                 wrote back).
    enterprise -> accounts.auth/.principal (who calls); accounts.directory
                 (organization names, a provider by its code, an enterprise's row lock,
                 the dispatchers' numbers) and accounts.organizations (an enterprise's
                 name); jobs.enterprise_access (the jobs it offered as plain values, their
                 activity, the locks of a reminder and of a webhook event);
                 jobs.commands (the offer, through the lifecycle), .customers (the
                 provider's customer by phone), .activity (reminders in the log),
                 .attachments (public notes and photos), .reasons, .schemas,
                 .settings_views.photo_response (a photo's bytes); lifecycle
                 (the enterprise actor); messaging.outbox (texts to dispatchers),
                 messaging.worker.retry_delay (the same backoff as texts).
    jobs      -> enterprise.events, once: the activity log queues an enterprise's webhook
                 event with every entry it writes (the one place a job changes).
    locations -> accounts.auth/.principal/.policy/.sessions (the one-statement ping
                 ingest reuses accounts' authentication query); accounts.members (is
                 someone a member, a viewer's name, the on-duty flag) and
                 accounts.organizations (the timezone); jobs.en_route (an
                 upload of a technician en route moves their visit's ETA and arrival);
                 accounts.tokens (tracker device tokens are made and hashed as session
                 tokens are); eta.model, .fits and .settings (the nearest technicians are
                 ranked by the organization's ETA model); jobs.en_route also takes the arrival an
                 OwnTracks geofence reports.
    eta       -> accounts.auth/.policy (GET /v1/settings/eta is for dispatchers);
                 jobs.customers (the distance to a customer's site), locations.positions
                 (a technician's latest fresh position).

No capability imports another's `models` any more (the test lists none). What is left:
the team map and the one-ping ingest read
other capabilities' tables in raw SQL (appointments, users), which the test cannot see.
Each should become a small public function of the capability that owns the table.
"""
