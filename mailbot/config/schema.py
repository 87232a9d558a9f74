"""The configuration's schema: one immutable pydantic model per YAML section, every field documented where it is
defined (`config/mailbot.example.yaml` must show each one, tests/unit/test_example_config.py checks it)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from mailbot.domain.addresses import domain_of, normalize_address
from mailbot.domain.evaluation import DNP_GRADES, DNP_LAG_BELOW, EvaluationRules, Grade, check_grades
from mailbot.domain.rounds import RoundDays
from mailbot.errors import ConfigError

EmailAddress = Annotated[str, AfterValidator(normalize_address)]
Pesos = Annotated[int, Field(strict=True, ge=0, description="whole Colombian pesos")]
Security = Literal["ssl", "starttls", "none"]

_MONTH_DAY = re.compile(r"^(?:(?P<year>\d{4})-)?(?P<month>\d{2})-(?P<day>\d{2})$")
_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAYS_SPEC = re.compile(rf"^(?:{'|'.join(_DAY_NAMES)})(?:-(?:{'|'.join(_DAY_NAMES)}))?$")


SQLITE_PREFIX = "sqlite:///"


def _check_day_spec(value: str) -> str:
    """Accept `MM-DD` (that day in the vigencia's year) or a full `YYYY-MM-DD`."""
    match = _MONTH_DAY.match(value.strip())
    if not match or not (1 <= int(match["month"]) <= 12 and 1 <= int(match["day"]) <= 31):
        raise ValueError("expected a day as MM-DD (e.g. 01-20) or YYYY-MM-DD")
    return value.strip()


def _check_days(value: str) -> str:
    """APScheduler day names, never numbers: in its crontab form day 0 is Monday, a classic trap."""
    parts = [p.strip().lower() for p in value.split(",")]
    if not parts or not all(_DAYS_SPEC.match(p) for p in parts):
        raise ValueError("expected day names such as 'mon-fri' or 'mon,wed,fri'")
    return ",".join(parts)


DaySpec = Annotated[str, AfterValidator(_check_day_spec)]
DaysSpec = Annotated[str, AfterValidator(_check_days)]


SectionT = TypeVar("SectionT", bound="Section")


class Section(BaseModel):
    """Every section rejects unknown keys and is immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Municipality(Section):
    name: str = Field(min_length=3, description="Official name, e.g. 'Municipio de Santa Rosa'.")
    dane_code: str = Field(pattern=r"^\d{5}$", description="DIVIPOLA code of the municipality, 5 digits.")
    domains: list[str] = Field(
        min_length=1, description="The administration's own mail domains (who counts as an insider)."
    )
    timezone: str = Field("America/Bogota", description="Time zone of every date mailbot shows.")
    test_domains: bool = Field(
        False,
        description="Accept addresses under the reserved .test domain (RFC 6761): for test servers only.",
    )

    @field_validator("domains")
    @classmethod
    def _lower_domains(cls, value: list[str]) -> list[str]:
        out = [d.strip().lower().lstrip("@") for d in value]
        for d in out:
            if "." not in d or " " in d:
                raise ValueError(f"'{d}' is not a mail domain such as 'alcaldia.gov.co'")
        return out

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{value}' (expected e.g. America/Bogota)") from None
        return value


class DevelopmentPlan(Section):
    name: str = Field(min_length=3, description="Name of the municipal development plan (PDM) in force.")
    period: str = Field(pattern=r"^\d{4}-\d{4}$", description="Its four years, e.g. '2024-2027'.")
    catalogue: Path | None = Field(
        None, description="Optional PDM catalogue (CSV, XLSX or YAML): líneas, programas, metas de producto."
    )
    projects: Path | None = Field(
        None, description="Optional list of BPIN codes registered in the banco de proyectos (rule P05)."
    )

    @field_validator("period")
    @classmethod
    def _ordered(cls, value: str) -> str:
        start, end = (int(x) for x in value.split("-"))
        if end <= start:
            raise ValueError("the period must run forward, e.g. '2024-2027'")
        return value

    @property
    def years(self) -> tuple[int, int]:
        start, end = (int(x) for x in self.period.split("-"))
        return start, end


class OutcomeFolders(Section):
    """IMAP folders a message is moved to once its outcome is committed (created when missing)."""

    processed: str = "mailbot/procesados"
    review: str = "mailbot/revision"
    ignored: str = "mailbot/ignorados"
    errors: str = "mailbot/errores"


class _Login(Section):
    """Shared by IMAP and SMTP: exactly one way to authenticate, or none (a local relay)."""

    user: str | None = Field(None, description="Login name; no '@gmail.com' is ever appended.")
    password: SecretStr | None = Field(None, description="Use ${ENV_VAR}: never write it in the file.")
    oauth2_token: SecretStr | None = Field(None, description="XOAUTH2 access token instead of a password.")
    ca_file: Path | None = Field(None, description="CA bundle for a private certificate authority.")
    timeout: float = Field(30.0, gt=0, description="Seconds before a silent server counts as down.")

    @model_validator(mode="after")
    def _one_secret(self) -> _Login:
        password = self.password.get_secret_value() if self.password else ""
        token = self.oauth2_token.get_secret_value() if self.oauth2_token else ""
        if password and token:
            raise ValueError("give either password or oauth2_token, not both")
        if (password or token) and not self.user:
            raise ValueError("a password or token needs a user")
        return self


OAuth2Provider = Literal["microsoft", "google", "custom"]


class OAuth2(Section):
    """OAuth2 with refresh for XOAUTH2 logins: mailbot renews the access token itself (it lives about an hour).

    One top-level section because a provider issues one token for IMAP and SMTP of the same mailbox (Microsoft
    365's scopes cover both, Google's `https://mail.google.com/` too): IMAP and SMTP share it, and a rotated
    refresh token is kept once. It applies to every login (`imap`, `smtp`) that has a `user` but neither a
    `password` nor a fixed `oauth2_token`.
    """

    provider: OAuth2Provider = Field(description="microsoft | google | custom (any RFC 6749 token endpoint).")
    client_id: str = Field(min_length=1, description="The app registration's client (application) ID.")
    client_secret: SecretStr | None = Field(
        None, description="Use ${ENV_VAR}. Google's desktop clients have one; Microsoft public clients none."
    )
    tenant: str = Field(
        "organizations", min_length=1, description="Microsoft: the directory (tenant) ID or domain of the mailbox."
    )
    scopes: list[str] | None = Field(
        None, description="Default: the provider's IMAP + SMTP scopes (custom: none sent).", min_length=1
    )
    token_url: str | None = Field(None, description="Token endpoint; required for custom, else the provider's.")
    device_authorization_url: str | None = Field(
        None, description="custom only: RFC 8628 device endpoint, for `mailbot auth login`."
    )
    refresh_token: SecretStr | None = Field(
        None,
        description="A refresh token obtained elsewhere (use ${ENV_VAR}); taken over from the token store "
        "whenever it changes here. Without it, run `mailbot auth login` once.",
    )
    token_store: Path = Field(
        Path("storage/oauth2-token.json"),
        description="Where renewed and rotated tokens are kept: a 0600 file, replaced atomically.",
    )
    ca_file: Path | None = Field(None, description="CA bundle for a token endpoint behind a private CA.")
    timeout: float = Field(30.0, gt=0, description="Seconds before a silent token endpoint counts as down.")

    @field_validator("token_url", "device_authorization_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("an OAuth2 endpoint must be an https:// URL (tokens travel in it)")
        return value

    @model_validator(mode="after")
    def _custom_needs_url(self) -> OAuth2:
        if self.provider == "custom" and not self.token_url:
            raise ValueError("provider 'custom' needs token_url")
        if self.device_authorization_url and self.provider != "custom":
            raise ValueError("device_authorization_url is for provider 'custom' (the others' are known)")
        return self


class Imap(_Login):
    host: str = Field(min_length=1)
    port: int | None = Field(None, ge=1, le=65535, description="Default: 993 for ssl, 143 otherwise.")
    security: Security = "ssl"
    folder: str = Field("INBOX", description="Folder where the secretarios' replies arrive.")
    outcome_folders: OutcomeFolders = OutcomeFolders()
    idle: bool = Field(True, description="Use IMAP IDLE when the server offers it (answers in seconds).")
    poll_interval: int = Field(60, ge=5, le=3600, description="Seconds between polls without IDLE.")

    @property
    def effective_port(self) -> int:
        return self.port or (993 if self.security == "ssl" else 143)


class Smtp(_Login):
    host: str = Field(min_length=1)
    port: int | None = Field(None, ge=1, le=65535, description="Default: 465 ssl, 587 starttls, 25 none.")
    security: Security = "starttls"
    from_address: EmailAddress = Field(description="Planeación's address; replies come back to it.")
    from_name: str = Field("Planeación", description="Display name of every mail mailbot sends.")
    message_id_domain: str | None = Field(None, description="Default: the domain of from_address.")
    plus_address_reply: bool = Field(
        True, description="Reply-To: planeacion+TOKEN@... (needs '+' addressing on the server)."
    )
    templates_dir: Path | None = Field(
        None,
        description="Folder of Jinja2 mail templates (and the workbook's workbook/instrucciones.yaml) overriding "
        "the shipped ones, file by file.",
    )

    @property
    def effective_port(self) -> int:
        return self.port or {"ssl": 465, "starttls": 587, "none": 25}[self.security]

    @property
    def effective_message_id_domain(self) -> str:
        return self.message_id_domain or domain_of(self.from_address)


class Head(Section):
    """The secretario(a) de despacho or jefe de oficina who answers for the dependencia."""

    name: str = Field(min_length=3)
    title: str = Field(min_length=3, description="Cargo, e.g. 'Secretaria de Hacienda'.")
    form_of_address: str | None = Field(
        None,
        description="How mail addresses the head, before the name: 'Doctora', 'Ingeniero', 'Señora'. "
        "Empty: the name alone.",
    )


class Contact(Section):
    """The person in planeación who answers questions; shown in every mail and sent the secretarios' questions."""

    name: str = Field(min_length=3, description="e.g. 'Laura Gómez Ruiz'.")
    title: str | None = Field(None, description="Cargo, e.g. 'Profesional universitaria, Planeación'.")
    phone: str | None = Field(None, description="Phone and extension as people dial it: '(604) 555 0100 ext. 214'.")
    email: EmailAddress = Field(description="Where questions are forwarded; a person reads it.")


class Budget(Section):
    """Available budget of the vigencia per source, in whole pesos (rule P03 checks the plan against it)."""

    poai: Pesos = Field(0, description="Inversión (Plan Operativo Anual de Inversiones).")
    operating: Pesos = Field(0, description="Funcionamiento.")
    cofinancing: Pesos = Field(0, description="Cofinanciación (Departamento, Nación, SGR, cooperación).")

    @property
    def total(self) -> int:
        return self.poai + self.operating + self.cofinancing


class Dependencia(Section):
    code: str = Field(pattern=r"^[A-Z][A-Z0-9]{1,9}$", description="Short code in capitals: 'HAC'.")
    name: str = Field(min_length=3, description="Official name: 'Secretaría de Hacienda'.")
    head: Head
    addresses: list[EmailAddress] = Field(
        min_length=1, description="Registered addresses: the mailing goes there; replies from them match."
    )
    budget: Budget = Budget()


class FormulacionRound(Section):
    deadline: DaySpec = Field("01-20", description="Return date: MM-DD in the vigencia, or a full date.")
    reminder_offsets: list[int] = Field([5, 2, 1], description="Working days before the deadline on which to remind.")
    late_notice_every: int = Field(3, ge=1, description="Working days between notices after it.")

    @field_validator("reminder_offsets")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if any(v < 0 for v in value):
            raise ValueError("offsets count working days before the deadline: use numbers >= 0")
        return sorted(set(value), reverse=True)


class SeguimientoRound(FormulacionRound):
    deadline: DaySpec = Field("01-20", description="Unused for seguimiento: see deadline_working_days.")
    cutoffs: dict[Literal["T1", "T2", "T3", "T4"], DaySpec] = Field(
        {"T1": "03-31", "T2": "06-30", "T3": "09-30", "T4": "12-31"},
        description="Cut-off day of each quarter (MM-DD in the vigencia).",
    )
    deadline_working_days: int = Field(10, ge=1, description="Returns due this many working days later.")
    reminder_offsets: list[int] = Field([3, 1])
    auto_start: bool = Field(True, description="Send the seguimiento workbooks on each cut-off day.")

    @field_validator("cutoffs")
    @classmethod
    def _every_quarter(cls, value: dict[str, str]) -> dict[str, str]:
        missing = [q for q in ("T1", "T2", "T3", "T4") if q not in value]
        if missing:
            raise ValueError(f"every quarter needs its cut-off day: missing {', '.join(missing)}")
        return value


class Rounds(Section):
    reminder_time: dt.time = Field(dt.time(8, 0), description="Local time of the daily reminder run (working days).")
    vigencia: int | None = Field(
        None, ge=2000, le=2100, description="Default vigencia for commands (default: next year from October)."
    )
    formulacion: FormulacionRound = FormulacionRound()
    seguimiento: SeguimientoRound = SeguimientoRound()

    def days(self) -> RoundDays:
        """The domain's round calendar days (the domain never reads the configuration)."""
        cutoffs = self.seguimiento.cutoffs
        return RoundDays(
            self.formulacion.deadline,
            (cutoffs["T1"], cutoffs["T2"], cutoffs["T3"], cutoffs["T4"]),
            self.seguimiento.deadline_working_days,
        )


class DigestSchedule(Section):
    days: DaysSpec = "mon-fri"
    time: dt.time = Field(dt.time(7, 0), description="Local time (America/Bogota), 'HH:MM'.")


class Digest(Section):
    recipients: list[EmailAddress] = Field(min_length=1, description="Planeación's people.")
    schedule: DigestSchedule = DigestSchedule()
    skip_when_unchanged: bool = Field(
        False, description="Skip days with nothing new (never the deadline day or after it)."
    )


class Storage(Section):
    database_url: str = Field(
        "sqlite:///storage/mailbot.db",
        description="SQLAlchemy URL; a relative SQLite path is relative to the configuration file's folder.",
    )
    archive_dir: Path = Field(
        Path("storage/archivo"), description="Every message and attachment received, with its SHA-256."
    )

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql")):
            raise ValueError("expected a sqlite:/// or postgresql+psycopg:// URL")
        return value

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite database's file; None on PostgreSQL or in memory. What a backup copies, what `check` and
        `validate` look for before opening, and whose folder `config check` must be able to write."""
        if not self.database_url.startswith(SQLITE_PREFIX):
            return None
        name = self.database_url.removeprefix(SQLITE_PREFIX)
        return None if name in ("", ":memory:") else Path(name)


class Limits(Section):
    max_message_bytes: int = Field(25 * 2**20, ge=1024, description="Larger messages are not parsed.")
    max_attachment_bytes: int = Field(15 * 2**20, ge=1024)
    max_workbook_uncompressed_bytes: int = Field(
        100 * 2**20, ge=2**20, description="Sum of the .xlsx zip members' sizes (zip-bomb guard)."
    )
    max_compression_ratio: int = Field(100, ge=10, description="Per zip member, uncompressed/compressed.")
    max_workbook_rows: int = Field(5000, ge=10)
    max_workbook_columns: int = Field(200, ge=64, description="The Metas sheet alone has 41 columns.")
    auto_mails_per_address_per_day: int = Field(
        10, ge=1, description="Automatic answers to one address per day; past it planeación is told."
    )


class SenderPolicy(Section):
    allow: Literal["registered", "domain"] = Field(
        "domain",
        description="'registered': only a dependencia's registered addresses may submit; 'domain': also "
        "any address of the municipality's domains when the workbook's signature is valid (assistants).",
    )
    answer_outsiders: bool = Field(
        False, description="Answer senders outside the municipality's domains (default: never)."
    )
    trusted_authserv_ids: list[str] = Field(
        [], description="Authentication-Results headers trusted for DMARC/SPF: only these servers'."
    )


class Signing(Section):
    secret: SecretStr = Field(description="Signs each workbook's _control block (HMAC). Use ${ENV_VAR}.")

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("the signing secret must be at least 16 characters")
        return value


class GradeBand(Section):
    """One grade of the quarterly evaluation: from `min_percent` (inclusive) up to the band above."""

    name: str = Field(min_length=1, description="Shown in the workbooks and digests, e.g. 'Sobresaliente'.")
    min_percent: Decimal = Field(
        ge=0,
        le=100,
        decimal_places=1,
        description="Lowest percentage of the band; at most one decimal, as percentages are shown.",
    )
    colour: str = Field(
        pattern=r"^#?[0-9A-Fa-f]{6}$", description="Fill colour of the grade, RRGGBB hexadecimal ('#' optional)."
    )

    @field_validator("colour")
    @classmethod
    def _bare_upper(cls, value: str) -> str:
        return value.removeprefix("#").upper()

    def grade(self) -> Grade:
        return Grade(self.name, self.min_percent, self.colour)


def _dnp_bands() -> list[GradeBand]:
    return [GradeBand(name=g.name, min_percent=g.min_percent, colour=g.colour) for g in DNP_GRADES]


class Evaluation(Section):
    """How the quarterly seguimiento is graded (default: DNP's ranges for eficacia)."""

    grades: list[GradeBand] = Field(
        default_factory=_dnp_bands,
        description="Highest first; min_percent strictly decreasing and the last one 0, so every score has one.",
    )
    lag_below_percent: Decimal = Field(
        DNP_LAG_BELOW,
        gt=0,
        le=100,
        decimal_places=1,
        description="A meta whose cumulative compliance is below this percentage is 'Rezagada'.",
    )

    @field_validator("grades")
    @classmethod
    def _bands_cover_every_score(cls, value: list[GradeBand]) -> list[GradeBand]:
        check_grades([band.grade() for band in value])
        return value

    def rules(self) -> EvaluationRules:
        """The domain's rules (the domain never reads the configuration)."""
        return EvaluationRules(tuple(band.grade() for band in self.grades), self.lag_below_percent)


class Workers(Section):
    """Several cooperating processes (PostgreSQL only): `mailbot run --role fetcher|worker`."""

    poll_interval: float = Field(
        1.0, gt=0, le=60, description="Seconds an idle worker waits before looking for new messages again."
    )
    batch: int = Field(20, ge=1, le=1000, description="Messages a worker decides before it flushes the outbox.")
    standby_retry: float = Field(
        2.0, gt=0, le=60, description="Seconds between a standby fetcher's attempts to take over the mailbox."
    )
    fetcher_recheck: float = Field(
        2.0, gt=0, le=60, description="While workers decide, seconds between the fetcher's moves of decided mail."
    )


class Daemon(Section):
    """How the daemon waits after a refused login, and what `mailbot health` calls unhealthy."""

    auth_retry: int = Field(
        900,
        ge=1,
        le=86400,
        description="Seconds before trying again after a server refused the credentials; doubles each time.",
    )
    auth_retry_max: int = Field(
        3600, ge=1, le=86400, description="The longest wait between logins while the credentials are refused."
    )
    stale_after: int = Field(
        600, ge=10, description="health: a process silent this many seconds is unhealthy (above imap.poll_interval)."
    )
    outbox_stale_after: int = Field(
        3600, ge=60, description="health: a mail still unsent this many seconds after it was queued is unhealthy."
    )


class Metrics(Section):
    """Prometheus metrics of `mailbot run` (off unless `listen` is set)."""

    listen: str | None = Field(
        None,
        pattern=r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):\d{1,5}$",
        description="host:port to serve /metrics on, e.g. '127.0.0.1:9464'; unset: no metrics.",
    )


class MailbotConfig(Section):
    municipality: Municipality
    development_plan: DevelopmentPlan
    imap: Imap
    smtp: Smtp
    dependencias: list[Dependencia] = Field(min_length=1)
    rounds: Rounds = Rounds()
    digest: Digest
    storage: Storage = Storage()
    limits: Limits = Limits()
    sender_policy: SenderPolicy = SenderPolicy()
    signing: Signing
    evaluation: Evaluation = Evaluation()
    workers: Workers = Workers()
    daemon: Daemon = Daemon()
    metrics: Metrics = Metrics()
    contact: Contact | None = Field(
        None, description="Planeación's person for questions. Default: smtp.from_name at smtp.from_address."
    )

    oauth2: OAuth2 | None = Field(
        None, description="OAuth2 with refresh for the logins without password or fixed oauth2_token."
    )

    def uses_oauth2(self, login: _Login) -> bool:
        """Whether `login` (self.imap or self.smtp) authenticates with the renewed OAuth2 token."""
        secrets = (login.password, login.oauth2_token)
        has_secret = any(s is not None and s.get_secret_value() for s in secrets)
        return self.oauth2 is not None and bool(login.user) and not has_secret

    @model_validator(mode="after")
    def _oauth2_is_used(self) -> MailbotConfig:
        if self.oauth2 is not None and not (self.uses_oauth2(self.imap) or self.uses_oauth2(self.smtp)):
            raise ValueError(
                "oauth2 is configured but no login uses it: give imap.user (or smtp.user) without a password"
            )
        users = {login.user.lower() for login in (self.imap, self.smtp) if login.user and self.uses_oauth2(login)}
        if len(users) > 1:
            raise ValueError(
                "oauth2 holds the token of one account, but imap.user and smtp.user differ: "
                "give the other login its password"
            )
        return self

    @property
    def effective_contact(self) -> Contact:
        """The contact every mail shows; without a `contact` section, planeación's own mailbox."""
        if self.contact is not None:
            return self.contact
        return Contact(name=self.smtp.from_name, email=self.smtp.from_address)

    @field_validator("dependencias")
    @classmethod
    def _unique_codes(cls, value: list[Dependencia]) -> list[Dependencia]:
        seen: set[str] = set()
        for dep in value:
            if dep.code in seen:
                raise ValueError(f"dependencia code '{dep.code}' appears twice")
            seen.add(dep.code)
        return value

    def dependencia(self, code: str) -> Dependencia:
        for dep in self.dependencias:
            if dep.code == code.upper():
                return dep
        known = ", ".join(d.code for d in self.dependencias)
        raise ConfigError(f"no dependencia with code '{code}' in the configuration (known: {known})")
