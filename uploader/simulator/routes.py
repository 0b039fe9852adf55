"""Every route the simulator serves, as data: `uploader simulate --help` lists them without
loading the server, and `app.build_app` binds each name to its handler."""

from __future__ import annotations

PREFIX = "/public/v2"

# (method, path under PREFIX, route name). A name after ":" is a variant path of the same route.
REGISTRY_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("POST", "/connect/token", "token"),
    ("POST", "/connect/token/refresh", "refresh"),
    ("POST", "/generation-data", "legacy"),
    ("POST", "/generation-datas", "single"),
    ("GET", "/generation-datas", "query"),
    ("POST", "/generation-datas/batches", "batch"),
    ("POST", "/generation-datas/monthly-data", "monthly"),
    ("GET", "/generation-datas/statuses", "statuses"),
    ("GET", "/generation-datas/status", "statuses:status"),
    ("POST", "/documents/devices", "documents"),
    ("POST", "/documents/grouped-devices", "documents:grouped"),
    ("POST", "/device-applications/i-rec/grouped", "register"),
    ("GET", "/device-applications/{id}/devices", "devices"),
    ("GET", "/metadata/inverter-brands", "brands"),
    ("GET", "/device-applications", "applications"),
    ("POST", "/rec-applications/grouped-device", "issuance"),
    ("GET", "/rec-applications", "rec-applications"),
)

# The simulator's own routes (full paths): no auth, limits or faults.
SIM_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("GET", "/_sim/state", "sim-state"),
    ("POST", "/_sim/drop-days", "sim-drop-days"),
    ("POST", "/_sim/alter-day", "sim-alter-day"),
    ("POST", "/_sim/rec-status", "sim-rec-status"),
)


def route_lines() -> list[str]:
    """Every route as `METHOD path`, the registry's first, then the simulator's own."""
    served = [(method, PREFIX + path) for method, path, _ in REGISTRY_ROUTES]
    served += [(method, path) for method, path, _ in SIM_ROUTES]
    return [f"{method:<4} {path}" for method, path in served]
