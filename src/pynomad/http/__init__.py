"""The /v1 HTTP API (aiohttp). Imports `structs`, `state`, `server`, `client`."""
