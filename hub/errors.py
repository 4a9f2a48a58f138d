"""Every error gridhub raises on purpose, as one tree under `HubError`.

    HubError                 anything gridhub reports to a person instead of a traceback
    ├── ConfigError          a site file that cannot be read or does not validate
    ├── PluginError          an entry-point plugin that fails to load or is unknown
    ├── StorageError         the database is unreachable or a migration failed
    │   └── MigrationError   a migration failed or an applied one was edited
    ├── BrokerError          the MQTT broker is unreachable or refused us
    ├── EmbeddedServiceError an embedded PostgreSQL or MQTT broker failed to start
    └── ClipError            an evaluation clip or its ground-truth sidecar is unreadable

Adapters translate library errors into these with ``raise ... from exc`` so the
CLI can print one clear line and exit non-zero.
"""


class HubError(Exception):
    """Base of every error gridhub reports to a person."""


class ConfigError(HubError):
    """A site configuration file is missing, unreadable or invalid."""


class PluginError(HubError):
    """A plugin could not be loaded, or a configured kind has no plugin."""


class StorageError(HubError):
    """The database cannot be reached or used."""


class MigrationError(StorageError):
    """A schema migration failed, or an applied migration no longer matches its file."""


class BrokerError(HubError):
    """The MQTT broker cannot be reached or refused the connection."""


class EmbeddedServiceError(HubError):
    """An embedded PostgreSQL or MQTT broker could not be started."""


class ClipError(HubError):
    """An evaluation clip, or its ground-truth sidecar, is missing, unreadable or invalid."""
