"""Error hierarchy. Every message says what to do next; the CLI and app show them without a traceback."""


class VraagpuntError(Exception):
    """Base class for errors a user can act on."""


class ConfigError(VraagpuntError):
    """A setting is missing or invalid."""


class InputError(VraagpuntError):
    """An input file (evaluation set, batch of questions) has bad lines."""


class IngestError(VraagpuntError):
    """A document could not be read; the file is skipped with this reason."""


class IndexMissingError(VraagpuntError):
    """There is no index yet."""


class ModelMismatchError(VraagpuntError):
    """The index was built with another embedding model than the one configured."""


class BackendUnavailableError(VraagpuntError):
    """A server (Chroma, LLM endpoint) could not be reached."""
