"""The one settings object of every Kraken Market process.

Values come, highest priority first, from keyword arguments, ``KRAKEN_*``
environment variables, the TOML file named by ``KRAKEN_CONFIG`` and the
embedded defaults, so that ``kraken-market up`` runs with no configuration at
all. No other module reads the environment.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from kraken_market.ports import check_mpc_ports

Environment = Literal["development", "test", "production"]

EXTERNAL_CHAIN_CONFIRMATIONS = 12
"""The indexer's default confirmation depth on a chain at ``chain_url`` (anvil, geth,
Gnosis...). Twelve blocks is Ethereum's long-standing convention for a settled
transaction and deeper than the reorganisations proof-of-stake chains see in
practice (one or two blocks; the beacon chain's deepest, in May 2022 before the
merge, was seven), for little delay: 2.4 minutes at Ethereum's 12-second slots, 1
minute at Gnosis Chain's 5-second ones. A deeper reorganisation loses nothing: the
indexer rewinds to the fork point itself (``ledger.indexer``); only its subscribers
see events withdrawn. Chains that finalise (Ethereum after two epochs, 64 blocks)
never reorganise below the finalised block: waiting for it is the strict choice
(``KRAKEN_CHAIN_CONFIRMATIONS=64``). The embedded chain mines a block per
transaction and never reorganises: 0 there, or its newest events would wait for
twelve later transactions (also when it is reached through ``chain_url``: set 0)."""


class Settings(BaseSettings):
    """Configuration shared by the API, the CLI and (later) chain and compute nodes."""

    model_config = SettingsConfigDict(env_prefix="KRAKEN_", extra="forbid")

    environment: Environment = "development"
    data_dir: Path = Field(
        default=Path(".kraken"), description="Directory holding every local state file."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default: SQLite file kraken.db in data_dir (WAL mode).",
    )
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8700, ge=1, le=65535)
    api_url: str | None = Field(
        default=None, description="Base URL the CLI talks to; default: http://api_host:api_port."
    )
    api_token: SecretStr | None = Field(
        default=None,
        description="Session token the CLI sends (else the session 'kraken-market login' saved).",
    )
    web_dir: Path | None = Field(
        default=None,
        description="The built web apps (marketplace, wallet); default: the repository's web/dist.",
    )
    web_connect_sources: list[str] = Field(
        default_factory=list,
        description="Origins the web apps may connect to besides the API's own (CSP connect-src).",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins of other sites allowed to call the API from a browser (CORS).",
    )
    wallet: Path | None = Field(
        default=None, description="The CLI's wallet file; default: wallet.json in data_dir."
    )
    wallet_passphrase: SecretStr | None = Field(
        default=None,
        description="Passphrase of the wallet's keys (else the CLI asks for it). For scripts.",
    )
    chain_host: str = "127.0.0.1"
    chain_port: int = Field(default=8545, ge=1, le=65535)
    chain_block_interval: float = Field(
        default=0.02,
        ge=0,
        le=10,
        description="Group commit: the longest (s) a transaction waits for concurrent sends "
        "to join its block; a lone sender's block is mined at once.",
    )
    chain_url: str | None = Field(
        default=None,
        description="JSON-RPC URL of the chain; default: the embedded chain at chain_host:port.",
    )
    chain_token_address: str | None = Field(
        default=None,
        description="On a real chain: the existing DATA token's address (not deployed then).",
    )
    chain_key_file: Path | None = Field(
        default=None,
        description="File (mode 0600) holding the hex private key the CLI signs with.",
    )
    chain_log_range: int = Field(
        default=2000,
        ge=1,
        le=1_000_000,
        description="Most blocks one eth_getLogs asks for (providers cap it; a range the "
        "node refuses is halved and asked again).",
    )
    chain_confirmations: int | None = Field(
        default=None,
        ge=0,
        le=1000,
        description="Blocks the indexer waits before trusting an event; default: 0 on the "
        f"embedded chain (it never reorganises), {EXTERNAL_CHAIN_CONFIRMATIONS} on a chain "
        "at chain_url.",
    )
    verifier_key_file: Path | None = Field(
        default=None,
        description="File (mode 0600) with the hex private key of the platform's verifier "
        "(records grants on chain). Default: data_dir/keys/verifier.key when it exists "
        "(made by 'up').",
    )
    arbiter_key_file: Path | None = Field(
        default=None,
        description="File (mode 0600) with the hex private key of the platform's arbiter "
        "(the API rules on quality claims with it for logged-in arbiters). Default: "
        "data_dir/keys/arbiter.key when it exists (made by 'up').",
    )
    grant_seconds: int = Field(
        default=30 * 86_400, ge=60, description="How long a grant lets a buyer buy."
    )
    stream_transport: Literal["relay", "nats"] = Field(
        default="relay",
        description="Carrier of stream frames: the API's embedded relay, or NATS JetStream.",
    )
    nats_url: str = Field(
        default="nats://127.0.0.1:4222", description="NATS server (stream_transport=nats)."
    )
    stream_retention_messages: int = Field(
        default=10_000, ge=1, le=10_000_000, description="Frames kept per stream (newest)."
    )
    stream_retention_seconds: int = Field(
        default=7 * 86_400, ge=60, description="Frames older than this are dropped."
    )
    stream_max_frame_bytes: int = Field(
        default=262_144, ge=1024, le=1_048_576, description="Largest frame a stream accepts."
    )
    storage_location: str | None = Field(
        default=None,
        description="Where the platform keeps ciphertext (share files, signed manifests, "
        "encrypted data files) that clients upload through the API: a directory, or "
        "s3://bucket[/prefix][?endpoint=URL&region=R] (credentials from the AWS "
        "environment). Default: data_dir/storage, the directory the compute nodes of "
        "'up' read.",
    )
    storage_max_object_bytes: int = Field(
        default=1 << 30,
        ge=1024,
        le=5 << 30,
        description="Largest object one upload stores (bytes; at most 5 GiB, S3's limit "
        "for one PUT).",
    )
    storage_upload_seconds: int = Field(
        default=3600,
        ge=60,
        le=7 * 86_400,
        description="How long a presigned S3 upload URL is valid.",
    )
    identity_trusted_issuers: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Credential type -> issuer DIDs trusted for it (PersonCredential, "
        "PlatformRoleCredential, BuyerCategoryCredential, OrganisationCredential). "
        "Outside production the demo issuer (data_dir/issuer) is trusted as well. "
        "AttorneyCredentials are trusted from companies identified in KCIT.",
    )
    identity_session_seconds: int = Field(
        default=900, ge=30, le=86_400, description="Lifetime of a session token."
    )
    identity_refresh_seconds: int = Field(
        default=7 * 86_400, ge=60, le=90 * 86_400, description="Lifetime of a refresh token."
    )
    identity_nonce_seconds: int = Field(
        default=300, ge=10, le=3600, description="How long a login nonce may be used."
    )
    identity_signin_seconds: int = Field(
        default=300,
        ge=30,
        le=1800,
        description="How long a sign-in request (OpenID4VP, QR code or link) may be answered.",
    )
    signin_key_file: Path | None = Field(
        default=None,
        description="File (mode 0600) with the hex Ed25519 seed of the marketplace's sign-in "
        "verifier DID (did:key), which signs OpenID4VP request objects. Default: "
        "data_dir/keys/signin.key, made on first use outside production; in production "
        "it must exist (no key is made silently).",
    )
    signin_client_name: str = Field(
        default="Kraken Market",
        min_length=1,
        max_length=100,
        description="The name wallets show for who asks in a sign-in request.",
    )
    identity_max_token_bytes: int = Field(
        default=32_768, ge=2048, le=65_536, description="Largest presentation accepted (bytes)."
    )
    identity_status_max_age: float = Field(
        default=60.0,
        ge=0,
        description="Seconds a status list of another registry is cached; the platform's "
        "own lists are read at every check, so its revocations apply at once.",
    )
    identity_did_web_cache: float = Field(
        default=300.0, ge=0, description="Seconds a did:web document is cached."
    )
    nodes: int = Field(
        default=3,
        ge=3,
        le=7,
        description="Compute nodes 'kraken-market up' runs (threshold (m-1)//2); fixed at "
        "the first start of a data directory (the nodes' certificates are made for m).",
    )
    node_base_port: int = Field(
        default=8800, ge=1, le=65_000, description="'up': node i's HTTP API on port base+i."
    )
    node_mpc_base_port: int = Field(
        default=18_000,
        ge=1,
        le=56_000,
        description="'up': node i's MPC (TLS) ports are base+1000*i up to 999 above it.",
    )
    depute_port: int = Field(
        default=8710, ge=1, le=65_535, description="'up': the demo company's Depute tool."
    )
    demo_company_name: str = Field(
        default="Demo Hospital",
        min_length=1,
        max_length=200,
        description="'up' (development): the demo company identified in KCIT at first start.",
    )
    demo_company_country: str = Field(
        default="NL", pattern=r"^[A-Z]{2}$", description="The demo company's country."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["console", "json"] = "console"
    max_request_bytes: int = Field(default=1_048_576, ge=1024)
    write_rate: float = Field(
        default=2.0,
        gt=0,
        description="Writes per second each signed-in identity may send to the API after "
        "its burst (then 429 with Retry-After).",
    )
    write_burst: int = Field(default=60, ge=1, description="Writes an identity may send at once.")
    anonymous_write_rate: float = Field(
        default=5.0,
        gt=0,
        description="Writes per second from one client address without a session (login, "
        "status lists, company bindings).",
    )
    anonymous_write_burst: int = Field(
        default=60, ge=1, description="Writes without a session one address may send at once."
    )
    page_size_default: int = Field(default=20, ge=1, le=100)
    max_concurrent_logins: int = Field(
        default=8,
        ge=1,
        description="Logins one API worker verifies at once (then 503 overloaded with "
        "Retry-After): presentations cost CPU.",
    )
    max_long_polls: int = Field(
        default=512,
        ge=1,
        description="Stream readers (long-polls and event streams) one API worker holds "
        "open at once (then 503).",
    )
    api_workers: int | None = Field(
        default=None,
        ge=1,
        le=64,
        description="API worker processes (default: one per core with PostgreSQL, one "
        "with SQLite, which serialises writers); 'api serve --workers' overrides it.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("KRAKEN_CONFIG")
        if config_file:
            path = Path(config_file)
            if not path.is_file():
                # Fail loudly: a typo in the path must not silently fall back to defaults.
                raise FileNotFoundError(f"KRAKEN_CONFIG names {path}, which is not a file")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @model_validator(mode="after")
    def _mpc_ports_outside_the_ephemeral_range(self) -> Settings:
        check_mpc_ports(self.node_mpc_base_port, 1000 * self.nodes, "node_mpc_base_port")
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'kraken.db').resolve()}"

    @property
    def resolved_storage_location(self) -> str:
        """``storage_location``, else the absolute path of data_dir/storage."""
        return self.storage_location or str((self.data_dir / "storage").resolve())

    @property
    def resolved_api_workers(self) -> int:
        """Worker processes for the API: as many as cores where the database allows it."""
        if self.api_workers is not None:
            return self.api_workers
        if self.resolved_database_url.startswith("sqlite"):
            return 1
        return max(1, len(os.sched_getaffinity(0)))

    @property
    def resolved_api_url(self) -> str:
        return (self.api_url or f"http://{self.api_host}:{self.api_port}").rstrip("/")

    @property
    def resolved_web_dir(self) -> Path:
        """``web_dir``, else ``web/dist`` of the source tree this package runs from."""
        if self.web_dir is not None:
            return self.web_dir
        return Path(__file__).resolve().parents[2] / "web" / "dist"

    @property
    def chain_file(self) -> Path:
        """The embedded chain's SQLite store."""
        return self.data_dir / "chain.db"

    @property
    def chain_is_embedded(self) -> bool:
        """Whether the chain is the embedded one at chain_host:port (``chain_url`` unset),
        as ``resolved_chain_url`` decides; a chain at ``chain_url`` may reorganise."""
        return not self.chain_url

    @property
    def resolved_chain_url(self) -> str:
        if self.chain_is_embedded:
            return f"http://{self.chain_host}:{self.chain_port}"
        return str(self.chain_url).rstrip("/")

    @property
    def resolved_chain_confirmations(self) -> int:
        """``chain_confirmations``, else 0 on the embedded chain (it never reorganises)
        and :data:`EXTERNAL_CHAIN_CONFIRMATIONS` on a chain at ``chain_url``."""
        if self.chain_confirmations is not None:
            return self.chain_confirmations
        return 0 if self.chain_is_embedded else EXTERNAL_CHAIN_CONFIRMATIONS

    @property
    def deployment_file(self) -> Path:
        """Where ``chain deploy`` writes the contracts' addresses; every process reads it."""
        return self.data_dir / "deployment.json"

    @property
    def sessions_dir(self) -> Path:
        """Where ``kraken-market login`` keeps the CLI's sessions: one file per wallet
        DID, mode 0600 (``cli.session_store``)."""
        return self.data_dir / "sessions"

    @property
    def token_file(self) -> Path:
        """The single CLI session of earlier versions (one per data directory); moved
        to ``sessions_dir`` when its wallet is next used (``cli.session_store``)."""
        return self.data_dir / "cli-session.json"

    @property
    def issuer_dir(self) -> Path:
        """The demo identity issuer's key and status list (development only)."""
        return self.data_dir / "issuer"

    @property
    def platform_keys_dir(self) -> Path:
        """The platform's own keys, made by ``up`` (one file per role, mode 0600)."""
        return self.data_dir / "keys"

    @property
    def resolved_signin_key_file(self) -> Path:
        """``signin_key_file``, else data_dir/keys/signin.key."""
        return self.signin_key_file or self.platform_keys_dir / "signin.key"

    def platform_key_file(self, role: str) -> Path | None:
        """The key file of the platform's ``role`` (``verifier``, ``arbiter``): the
        setting, else the one ``up`` made, else None (that role is not served)."""
        configured = {"verifier": self.verifier_key_file, "arbiter": self.arbiter_key_file}
        if configured.get(role) is not None:
            return configured[role]
        made = self.platform_keys_dir / f"{role}.key"
        return made if made.is_file() else None

    @property
    def wallet_file(self) -> Path:
        """The CLI's wallet (mode 0600)."""
        return self.wallet or self.data_dir / "wallet.json"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
