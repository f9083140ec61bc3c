"""The web app: server-rendered pages for members, communities and operators, the data-levers directory,
browser sessions with one-time sign-in codes, and the offline API docs. Served by `datalever serve` at `/`."""
