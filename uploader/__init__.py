"""REDEX generation-data uploader: pushes inverters' daily generation into the registry.

The Python API, for embedding the uploader in another program:

    from uploader import Record, RegistryClient, Uploader, config, open_queue

    settings = config.load("uploader.toml")
    async with open_queue(settings.queue) as queue:
        await queue.enqueue([Record(...), ...])
        async with RegistryClient.from_settings(settings) as client:
            await Uploader(settings, queue, client).run(drain=True)

Names are imported on first use, so `import uploader` (and every CLI command) stays cheap.
"""

import importlib as _importlib
import typing as _typing

if _typing.TYPE_CHECKING:
    from uploader.config import Settings
    from uploader.errors import ConfigError, QueueError, RegistryError, UploaderError
    from uploader.push.service import Uploader
    from uploader.queue import Queue, open_queue
    from uploader.records import Record
    from uploader.registry.client import RegistryClient
    from uploader.registry.limiter import KeyedLimiter, Policy
    from uploader.simulator import FakeRegistry, SimOptions

__version__ = "0.1.0"

_LAZY = {
    "ConfigError": "uploader.errors",
    "FakeRegistry": "uploader.simulator",
    "KeyedLimiter": "uploader.registry.limiter",
    "Policy": "uploader.registry.limiter",
    "Queue": "uploader.queue",
    "QueueError": "uploader.errors",
    "Record": "uploader.records",
    "RegistryClient": "uploader.registry.client",
    "RegistryError": "uploader.errors",
    "Settings": "uploader.config",
    "SimOptions": "uploader.simulator",
    "Uploader": "uploader.push.service",
    "UploaderError": "uploader.errors",
    "open_queue": "uploader.queue",
}

__all__ = [
    "ConfigError",
    "FakeRegistry",
    "KeyedLimiter",
    "Policy",
    "Queue",
    "QueueError",
    "Record",
    "RegistryClient",
    "RegistryError",
    "Settings",
    "SimOptions",
    "Uploader",
    "UploaderError",
    "__version__",
    "open_queue",
]


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'uploader' has no attribute {name!r}")
    return getattr(_importlib.import_module(module), name)


def __dir__() -> list[str]:
    return __all__
