"""Background jobs (docs/jobs.md): `runner` submits, claims, runs, reaps and retries jobs;
`kinds` holds what each kind of job does (import, annual statements, and the registry other
features add theirs to); `tasks` wires both to the task queue for the worker."""
