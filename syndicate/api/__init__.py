"""The HTTP intake API for producers that are not Python (``syndicate api``): the Starlette app
(:mod:`.app`), its OpenAPI page (:mod:`.docs`), and uvicorn with deadlines against slow clients
(:mod:`.serving`).
"""
