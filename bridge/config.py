"""Settings: the documented example config merged with the user's file and the environment.

Parsed once into frozen dataclasses; the rest of the code reads attributes, never raw keys.
Secrets live apart (`secrets.yaml`, mode 0600), generated on first run by `ensure_secrets`.
"""

from __future__ import annotations

import dataclasses
import os
import secrets as _secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from bridge.storage.private_files import write_private

EXAMPLE_CONFIG = Path(__file__).with_name("example-config.yaml")
CONFIG_FILE = "confrere.yaml"
SECRETS_FILE = "secrets.yaml"
ENV_PREFIX = "CONFRERE_"


class ConfigError(Exception):
    """The configuration cannot be used; the message says which key and why."""


@dataclass(frozen=True)
class SynapseSettings:
    host: str = "127.0.0.1"
    port: int = 8008
    public_url: str = ""
    database_url: str = ""
    internal_url: str = ""
    redis_url: str = ""
    workers: int = 0
    replication_port: int = 9093
    relaxed_rate_limits: bool = False
    retention_days: int = 183
    # A case administrator may keep a room's messages longer, up to this many days.
    retention_max_days: int = 730

    @property
    def url(self) -> str:
        """How the service reaches Synapse."""
        return self.internal_url or f"http://{_reachable(self.host)}:{self.port}"

    @property
    def client_url(self) -> str:
        """The address Matrix clients (Element) use."""
        return self.public_url or f"http://{_reachable(self.host)}:{self.port}"


@dataclass(frozen=True)
class ServiceSettings:
    host: str = "127.0.0.1"
    port: int = 8009
    public_url: str = ""
    internal_url: str = ""

    @property
    def url(self) -> str:
        """How browsers and integrators reach the service."""
        return self.public_url or f"http://{_reachable(self.host)}:{self.port}"

    @property
    def internal(self) -> str:
        """How Synapse reaches the service."""
        return self.internal_url or f"http://{_reachable(self.host)}:{self.port}"


def _reachable(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = ""


@dataclass(frozen=True)
class BotSettings:
    localpart: str = "confrere"
    display_name: str = "Confrère"


@dataclass(frozen=True)
class AppserviceSettings:
    ghost_prefix: str = "confrere_"
    sender_localpart: str = "confrere-appservice"


@dataclass(frozen=True)
class AccessRulesSettings:
    cache_seconds: float = 30
    timeout_seconds: float = 5


@dataclass(frozen=True)
class VerificationSettings:
    administrators: tuple[str, ...] = ()
    link_minutes: int = 15
    document_provider: str = "review"  # review | onfido
    document_max_mb: int = 10

    def __post_init__(self) -> None:
        if self.document_provider not in ("review", "onfido"):
            raise ConfigError(f"verification.document_provider: '{self.document_provider}' "
                              "is not one of review, onfido")
        if not 1 <= self.document_max_mb <= 50:
            raise ConfigError("verification.document_max_mb: between 1 and 50 (MB)")


@dataclass(frozen=True)
class PscSettings:
    issuer: str = ""
    discovery_url: str = ""
    client_id: str = ""
    client_secret: str = ""
    simulator_port: int = 8010

    @property
    def simulated(self) -> bool:
        return not self.issuer


@dataclass(frozen=True)
class AuthSettings:
    """How practitioners log in to Matrix: password and/or Pro Santé Connect (SSO)."""

    password_login: bool = True
    psc_login: bool = True
    # Client addresses (prefixes) Synapse may send the login token to without asking first.
    trusted_clients: tuple[str, ...] = ()
    psc_starts_per_ip_per_hour: int = 600

    def __post_init__(self) -> None:
        if not (self.password_login or self.psc_login):
            raise ConfigError("auth: password_login and psc_login cannot both be false "
                              "(nobody could log in)")
        if self.psc_starts_per_ip_per_hour < 1:
            raise ConfigError("auth.psc_starts_per_ip_per_hour: at least 1")
        for client in self.trusted_clients:
            # Synapse compares prefixes: without the path's "/", https://a.org would also
            # trust https://a.org.evil.example.
            scheme, _, rest = client.partition("://")
            if scheme not in ("https", "http") or "/" not in rest or rest.startswith("/"):
                raise ConfigError(f"auth.trusted_clients: '{client}' must be a full address "
                                  "ending its host with '/', e.g. https://element.example.org/")


@dataclass(frozen=True)
class CpsSettings:
    """Verification with a CPS card (`confrere-cps`): trust anchors, revocation, lifetimes."""

    trust_anchors: tuple[str, ...] = ()
    code_minutes: int = 15
    challenge_seconds: int = 120
    crls: tuple[str, ...] = ()  # http(s) URLs, or files (closed networks)
    ocsp: bool = False
    revocation_timeout_seconds: float = 10

    def anchor_paths(self, data_dir: Path) -> tuple[Path, ...]:
        """The configured files, relative ones read from the data directory."""
        return tuple(Path(p) if Path(p).is_absolute() else data_dir / p
                     for p in self.trust_anchors)

    def crl_sources(self, data_dir: Path) -> tuple[str, ...]:
        """CRL URLs as given; files made absolute (relative ones in the data directory)."""
        return tuple(s if s.startswith(("http://", "https://")) or Path(s).is_absolute()
                     else str(data_dir / s) for s in self.crls)


@dataclass(frozen=True)
class LoggingSettings:
    level: str = "INFO"


@dataclass(frozen=True)
class MailSettings:
    """Outgoing mail (signup codes, notices) through the durable outbox."""

    from_address: str = "Confrère <ne-pas-repondre@localhost>"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    tls: str = "starttls"  # none | starttls | tls
    username: str = ""
    password_file: str = ""
    timeout_seconds: float = 20
    retry_max_seconds: float = 300
    dev_catcher: bool = False
    dev_catcher_port: int = 0

    def __post_init__(self) -> None:
        if self.tls not in ("none", "starttls", "tls"):
            raise ConfigError(f"mail.tls: '{self.tls}' is not one of none, starttls, tls")

    def password(self, data_dir: Path) -> str:
        """The SMTP password, read from its own file (kept out of the config)."""
        if not self.password_file:
            return ""
        path = Path(self.password_file)
        path = path if path.is_absolute() else data_dir / path
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"mail.password_file: cannot read {path}: {exc}") from exc


@dataclass(frozen=True)
class SignupSettings:
    """The web signup: consent versions, code lifetime, throttling."""

    terms_version: str = "2026-01"
    privacy_version: str = "2026-01"
    terms_url: str = ""
    privacy_url: str = ""
    element_web_url: str = "https://app.element.io"
    code_validity_minutes: int = 15
    code_max_attempts: int = 5
    resend_interval_seconds: int = 60
    codes_per_address_per_hour: int = 5
    codes_per_ip_per_hour: int = 20
    code_tries_per_ip_per_hour: int = 60
    trust_forwarded_for: bool = False


@dataclass(frozen=True)
class OnfidoSettings:
    """The Onfido API, used when `verification.document_provider` is `onfido`."""

    base_url: str = ""
    api_token: str = ""
    webhook_token: str = ""
    issuing_country: str = "FRA"
    poll_seconds: float = 600
    simulator_port: int = 8011

    @property
    def simulated(self) -> bool:
        return not self.base_url


@dataclass(frozen=True)
class Secrets:
    """Generated once per installation; never committed, never logged."""

    as_token: str
    hs_token: str
    registration_shared_secret: str
    module_secret: str
    macaroon_secret_key: str
    form_secret: str
    psc_simulator_client_secret: str
    web_secret: str
    documents_key: str
    onfido_simulator_api_token: str
    onfido_simulator_webhook_token: str
    # Seals what must be stored but not readable from the database alone (dialog answers).
    sealing_key: str

    @classmethod
    def generate(cls) -> "Secrets":
        return cls(**{f.name: _secrets.token_urlsafe(32) for f in dataclasses.fields(cls)})


@dataclass(frozen=True)
class DirectorySettings:
    # Import the bundled sample extract when the directory is empty at start-up (embedded
    # default; production imports the national extract and turns this off).
    sample_on_first_start: bool = True


@dataclass(frozen=True)
class ReferralSettings:
    """Referral (adressage): holds, retention of patient details, reminders, the feed."""

    hold_minutes: int = 10
    retention_days: int = 90  # patient details purged this long after the appointment
    reminder_hours_before: int = 24
    slots_per_page: int = 5
    max_document_mb: int = 50
    webhook_retry_max_seconds: float = 600


@dataclass(frozen=True)
class SmsSettings:
    """Patient SMS through a provider's HTTP API; empty `provider_url`: the dev sink."""

    provider_url: str = ""
    api_token: str = ""
    sender: str = "Confrere"
    timeout_seconds: float = 10
    retry_max_seconds: float = 600

    @property
    def dev_sink(self) -> bool:
        return not self.provider_url


@dataclass(frozen=True)
class LegalSettings:
    """Who publishes and hosts this installation: filled into the legal pages (/cgu,
    /confidentialite, /mentions-legales). An operator may also replace a page entirely with
    `<data>/legal/<page>.html`."""

    publisher: str = ""
    address: str = ""
    contact_email: str = ""
    publication_director: str = ""
    dpo_email: str = ""
    host: str = ""
    host_address: str = ""
    health_data_host_certified: bool = False


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    secrets: Secrets
    server_name: str = "localhost"
    synapse: SynapseSettings = field(default_factory=SynapseSettings)
    service: ServiceSettings = field(default_factory=ServiceSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    bot: BotSettings = field(default_factory=BotSettings)
    appservice: AppserviceSettings = field(default_factory=AppserviceSettings)
    access_rules: AccessRulesSettings = field(default_factory=AccessRulesSettings)
    verification: VerificationSettings = field(default_factory=VerificationSettings)
    psc: PscSettings = field(default_factory=PscSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    cps: CpsSettings = field(default_factory=CpsSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    signup: SignupSettings = field(default_factory=SignupSettings)
    onfido: OnfidoSettings = field(default_factory=OnfidoSettings)
    directory: DirectorySettings = field(default_factory=DirectorySettings)
    referral: ReferralSettings = field(default_factory=ReferralSettings)
    sms: SmsSettings = field(default_factory=SmsSettings)
    legal: LegalSettings = field(default_factory=LegalSettings)

    @property
    def bot_user_id(self) -> str:
        return f"@{self.bot.localpart}:{self.server_name}"

    @property
    def admin_user_id(self) -> str:
        """The administrator account `confrere up` creates."""
        return f"@admin:{self.server_name}"

    @property
    def administrators(self) -> tuple[str, ...]:
        return (self.admin_user_id, *self.verification.administrators)

    @property
    def appservice_sender_id(self) -> str:
        return f"@{self.appservice.sender_localpart}:{self.server_name}"

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite+aiosqlite:///{self.data_dir / 'confrere.db'}"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def synapse_dir(self) -> Path:
        return self.data_dir / "synapse"

    @property
    def bot_dir(self) -> Path:
        return self.data_dir / "bot"


_SECTIONS = {
    "synapse": SynapseSettings,
    "service": ServiceSettings,
    "database": DatabaseSettings,
    "bot": BotSettings,
    "appservice": AppserviceSettings,
    "access_rules": AccessRulesSettings,
    "verification": VerificationSettings,
    "psc": PscSettings,
    "auth": AuthSettings,
    "cps": CpsSettings,
    "logging": LoggingSettings,
    "mail": MailSettings,
    "signup": SignupSettings,
    "onfido": OnfidoSettings,
    "directory": DirectorySettings,
    "referral": ReferralSettings,
    "sms": SmsSettings,
    "legal": LegalSettings,
}


def write_default_config(data_dir: Path) -> Path:
    """Copy the documented example into the data directory unless a config is already there."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / CONFIG_FILE
    if not path.exists():
        path.write_text(EXAMPLE_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def ensure_secrets(data_dir: Path) -> Secrets:
    """Load the installation's secrets, generating any that are missing (file mode 0600)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / SECRETS_FILE
    existing: dict[str, Any] = {}
    if path.exists():
        existing = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    fresh = dataclasses.asdict(Secrets.generate())
    merged = {name: str(existing.get(name) or fresh[name]) for name in fresh}
    if merged != existing:
        write_private(path, "# Generated by Confrère on first run. Keep private; never commit.\n"
                      + yaml.safe_dump(merged))
    os.chmod(path, 0o600)
    return Secrets(**merged)


def load_settings(data_dir: Path, environ: dict[str, str] | None = None) -> Settings:
    """Example defaults <- data_dir/confrere.yaml <- CONFRERE_SECTION__KEY environment variables."""
    environ = dict(os.environ if environ is None else environ)
    data_dir = data_dir.resolve()
    raw: dict[str, Any] = yaml.safe_load(EXAMPLE_CONFIG.read_text(encoding="utf-8"))
    user_file = data_dir / CONFIG_FILE
    if user_file.exists():
        try:
            user = yaml.safe_load(user_file.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{user_file}: YAML invalide / invalid YAML: {exc}") from exc
        if not isinstance(user, dict):
            raise ConfigError(f"{user_file}: expected a mapping at top level")
        _merge(raw, user, str(user_file))
    _apply_environment(raw, environ)
    return _build(raw, data_dir, ensure_secrets(data_dir))


def _merge(base: dict[str, Any], override: dict[str, Any], origin: str) -> None:
    for key, value in override.items():
        if key not in base:
            raise ConfigError(f"{origin}: unknown key '{key}'")
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigError(f"{origin}: '{key}' must be a mapping")
            _merge(base[key], value, f"{origin}:{key}")
        else:
            base[key] = value


def _apply_environment(raw: dict[str, Any], environ: dict[str, str]) -> None:
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name == "CONFRERE_DATA":
            continue
        path = name[len(ENV_PREFIX):].lower().split("__")
        target = raw
        for part in path[:-1]:
            if not isinstance(target.get(part), dict):
                raise ConfigError(f"{name}: unknown configuration section '{part}'")
            target = target[part]
        if path[-1] not in target or isinstance(target[path[-1]], dict):
            raise ConfigError(f"{name}: unknown configuration key '{path[-1]}'")
        target[path[-1]] = value  # raw text: each field's type decides how to read it


def _build(raw: dict[str, Any], data_dir: Path, secrets: Secrets) -> Settings:
    kwargs: dict[str, Any] = {"data_dir": data_dir, "secrets": secrets}
    for key, value in raw.items():
        cls = _SECTIONS.get(key)
        if cls is None:
            kwargs[key] = str(value)
            continue
        kwargs[key] = _typed(cls, value or {}, key)
    return Settings(**kwargs)


_BOOLEANS = {"true": True, "yes": True, "on": True, "1": True,
             "false": False, "no": False, "off": False, "0": False}


def _typed(cls: type, values: dict[str, Any], section: str) -> Any:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in values:
            continue
        value = values[f.name]
        default = f.default
        try:
            if isinstance(default, tuple):
                if isinstance(value, str):
                    value = [part.strip() for part in value.split(",") if part.strip()]
                if not isinstance(value, (list, tuple)):
                    raise ValueError("expected a list")
                value = tuple(str(item) for item in value)
            elif isinstance(default, bool):
                if isinstance(value, str) and value.lower() in _BOOLEANS:
                    value = _BOOLEANS[value.lower()]
                if not isinstance(value, bool):
                    raise ValueError("expected true or false")
            elif isinstance(default, (int, float)):
                value = type(default)(value)
            else:
                value = "" if value is None else str(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{section}.{f.name}: {exc}") from exc
        out[f.name] = value
    return cls(**out)
