"""Every error gridhub raises on purpose, as one tree under `HubError`.

    HubError                 anything gridhub reports to a person instead of a traceback
    ├── ConfigError          a site file that cannot be read or does not validate
    ├── PluginError          an entry-point plugin that fails to load or is unknown
    ├── StorageError         the database is unreachable or a migration failed
    │   └── MigrationError   a migration failed or an applied one was edited
    ├── BrokerError          the MQTT broker is unreachable, refused us, or left a publish
    │                        unconfirmed
    ├── PayloadError         an MQTT message that is rejected (with a reason to count)
    ├── CaseError            a case that does not exist or cannot take an action
    │   └── TransitionError  an action not allowed from the case's state or for the role
    ├── NotifyError          a notifier could not deliver an event (it is retried; `outcome`
    │                        labels the metric, `retry_after_s` asks for a wait, not a try)
    ├── AuthError            a user, token or password that is not valid
    ├── SourceError          a camera source failed (the message never holds credentials)
    │   ├── SourceOpenError  it could not be opened (unreachable, refused, timed out)
    │   ├── SourceReadError  it broke mid-stream (connection lost, read timed out)
    │   ├── CorruptFrame     one picture could not be decoded; the stream goes on
    │   └── SourceEnded      a finite source (a file played once) has no more frames
    ├── EvidenceError        a snapshot or clip could not be made or written
    │   └── EvidenceWriteError  the disk refused it (full, read-only, gone)
    ├── EmbeddedServiceError an embedded PostgreSQL or MQTT broker failed to start
    ├── ModelError           an object-detection weights file is missing or unusable
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
    """The MQTT broker cannot be reached, refused the connection, or did not confirm a publish."""


class PayloadError(HubError):
    """An incoming MQTT payload was rejected; `reason` is the metric label."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class CaseError(HubError):
    """A case does not exist, or an action on it is invalid."""


class TransitionError(CaseError):
    """An action is not allowed from the case's state, or not for this role."""

    def __init__(self, message: str, allowed: list[str]) -> None:
        super().__init__(message)
        self.allowed = allowed


class AuthError(HubError):
    """A user, token or password that is not valid."""


class NotifyError(HubError):
    """A notifier could not deliver an event; the runner retries it.

    `outcome` is the metric label (server_error, rate_limited, bad_answer, …);
    `retry_after_s` set means "wait this long, then try again" (a rate limit: the
    wait is not one of the tries); `permanent` means no retry can help (a wrong
    secret, a payload the platform refuses) and the event is given up at once.
    """

    def __init__(
        self, message: str, outcome: str = "error", retry_after_s: float | None = None,
        *, permanent: bool = False,
    ) -> None:  # fmt: skip
        super().__init__(message)
        self.outcome = outcome
        self.retry_after_s = retry_after_s
        self.permanent = permanent


class EmbeddedServiceError(HubError):
    """An embedded PostgreSQL or MQTT broker could not be started."""


class ModelError(HubError):
    """An object-detection model file is missing, unreadable or not a detection model."""


class SourceError(HubError):
    """A camera frame source failed; the message names the camera without credentials."""


class SourceOpenError(SourceError):
    """A camera source could not be opened: unreachable, refused, not a video, timed out."""


class SourceReadError(SourceError):
    """A camera source broke while streaming: connection lost or no frame within the timeout."""


class CorruptFrame(SourceError):
    """One picture could not be decoded; the worker counts it and reads on."""


class SourceEnded(SourceError):
    """A finite source (a file played once) has delivered its last frame."""


class EvidenceError(HubError):
    """An evidence snapshot or clip could not be made or written; `reason` says why in a
    few words (it is stored with the alert as the reason the file is missing)."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message


class EvidenceWriteError(EvidenceError):
    """The evidence directory refused a file: the disk is full, read-only or gone."""


class ClipError(HubError):
    """An evaluation clip, or its ground-truth sidecar, is missing, unreadable or invalid."""
