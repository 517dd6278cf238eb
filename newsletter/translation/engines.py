"""Machine translation engines behind one small interface, with timeouts and retries.

deep-translator makes its HTTP calls with ``requests`` and no timeout; a stalled
server would block the run forever. ``_bounded`` gives every request made inside
an engine call a timeout (through a context variable read by a thin wrapper
around requests' HTTPAdapter.send), so a stall ends as a ``requests`` Timeout
that the retry loop understands. Keys are read from the environment when a call
is made, never at import, and never printed.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import random
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import ClassVar

import requests
from requests.adapters import HTTPAdapter

from newsletter.errors import ConfigError, EngineRejected, EngineUnavailable

ENGINES = ("google", "libre", "mymemory", "microsoft", "deepl")

_TIMEOUT: contextvars.ContextVar[float | None] = contextvars.ContextVar("mt_timeout", default=None)
_original_send = HTTPAdapter.send


def _send_with_timeout(self, request, **kwargs):  # type: ignore[no-untyped-def]
    timeout = _TIMEOUT.get()
    if timeout is not None and kwargs.get("timeout") is None:
        kwargs["timeout"] = timeout
    return _original_send(self, request, **kwargs)


def install_timeouts() -> None:
    """Give every requests call made inside an engine call a timeout (deep-translator
    sets none). Done when the first engine is made, not at import: a long-running
    server that never translates keeps requests as it is."""
    if HTTPAdapter.send is not _send_with_timeout:
        HTTPAdapter.send = _send_with_timeout  # type: ignore[method-assign]


@contextlib.contextmanager
def _bounded(seconds: float) -> Iterator[None]:
    token = _TIMEOUT.set(seconds)
    try:
        yield
    finally:
        _TIMEOUT.reset(token)


@dataclass(frozen=True)
class RetryPolicy:
    timeout: float = 20.0  # seconds per HTTP request
    retries: int = 3  # after the first attempt
    backoff: float = 0.5  # first wait; doubles per retry
    cap: float = 8.0  # longest wait
    sleep: Callable[[float], None] = time.sleep

    def delays(self) -> Iterator[float]:
        for attempt in range(self.retries):
            step = min(self.cap, self.backoff * 2**attempt)
            yield step / 2 + random.uniform(0, step / 2)  # noqa: S311 - jitter, not crypto


class _Transient(Exception):
    """Worth another try: timeouts, connection errors, 429 and 5xx."""


class Engine(ABC):
    """One engine. ``translate`` does the splitting, timeouts, retries and error mapping."""

    name: str = ""
    max_chars: int = 4500
    # our language code -> the engine's code; languages not listed are unsupported
    codes: ClassVar[dict[str, str]] = {}

    def __init__(self, policy: RetryPolicy | None = None):
        install_timeouts()
        self.policy = policy or RetryPolicy()
        self.calls = 0  # HTTP-level translate calls made, for reports and tests

    def supports(self, lang: str) -> bool:
        return lang in self.codes

    def check_languages(self, source: str, targets: list[str]) -> None:
        missing = [t for t in [source, *targets] if not self.supports(t)]
        if missing:
            raise ConfigError(
                f"engine {self.name!r} cannot translate {', '.join(missing)}; "
                "choose another engine with --engine or leave these "
                "languages to human translators"
            )

    def translate(self, text: str, source: str, target: str) -> str:
        """Translate one (masked) segment, split into chunks under the engine's limit."""
        chunks = split_text(text, self.max_chars)
        return " ".join(self._with_retries(chunk, source, target) for chunk in chunks)

    def _with_retries(self, text: str, source: str, target: str) -> str:
        delays = self.policy.delays()
        while True:
            try:
                self.calls += 1
                with _bounded(self.policy.timeout):
                    out = self._call(text, self.codes[source], self.codes[target])
            except _Transient as err:
                delay = next(delays, None)
                if delay is None:
                    raise EngineUnavailable(f"{self.name}: {err}") from err
                self.policy.sleep(delay)
                continue
            if not out or not out.strip():
                raise EngineRejected(f"{self.name} returned an empty translation")
            return out

    @abstractmethod
    def _call(self, text: str, source: str, target: str) -> str:
        """One request; raise _Transient for what a retry may cure, EngineRejected else."""


def split_text(text: str, limit: int) -> list[str]:
    """Chunks under ``limit`` characters, cut at sentence ends, else at spaces."""
    if len(text) <= limit:
        return [text]
    sentences = re.split(r"(?<=[.!?…:;])\s+", text)
    pieces: list[str] = []
    for sentence in sentences:
        while len(sentence) > limit:  # one very long sentence: cut at the last space
            cut = sentence.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            pieces.append(sentence[:cut])
            sentence = sentence[cut:].lstrip()
        pieces.append(sentence)
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1]) + 1 + len(piece) <= limit:
            chunks[-1] += " " + piece
        else:
            chunks.append(piece)
    return chunks


# --- deep-translator engines ---------------------------------------------------------------

_DT_STATUS = {
    "ERR_TOO_MANY_REQUESTS": 429,
    "ERR_INTERNAL_SERVER_ERROR": 500,
    "ERR_SERVICE_NOT_AVAIBLE": 503,
    "ERR_BAD_REQUEST": 400,
    "ERR_TEXT_TOO_LONG": 413,
    "ERR_UNPROCESSABLE_TEXT": 422,
    "ERR_LANG_NOT_SUPPORTED": 501,
}


def _deep_translator_call(make: Callable[[], object], text: str) -> str:
    """Run a deep-translator call and sort its unrelated exceptions into ours."""
    from deep_translator import exceptions as dt

    try:
        return str(make().translate(text))  # type: ignore[attr-defined]
    except (requests.exceptions.Timeout, requests.exceptions.ConnectionError) as err:
        raise _Transient(type(err).__name__) from err
    except dt.TooManyRequests as err:
        raise _Transient("429 too many requests") from err
    except dt.ServerException as err:
        status = _DT_STATUS.get(str(err), 500)
        if status == 429 or status >= 500:
            raise _Transient(f"HTTP {status}") from err
        raise EngineRejected(f"HTTP {status} ({err})") from err
    except dt.RequestError as err:  # Google: any non-2xx, status not kept
        raise _Transient("request failed") from err
    except (dt.AuthorizationException, dt.ApiKeyException) as err:
        raise ConfigError("the engine refused the API key; check its environment variable") from err
    except (dt.TranslationNotFound, dt.NotValidPayload, dt.NotValidLength) as err:
        raise EngineRejected(type(err).__name__) from err


class GoogleEngine(Engine):
    name = "google"
    max_chars = 4500  # the free endpoint refuses 5000 and more
    codes: ClassVar[dict[str, str]] = {
        c: c
        for c in (
            "de",
            "en",
            "tr",
            "ar",
            "ru",
            "uk",
            "pl",
            "fa",
            "ku",
            "ckb",
            "fr",
            "es",
            "it",
            "ro",
            "bg",
            "el",
            "sq",
            "sr",
            "hr",
            "bs",
            "so",
            "ti",
            "am",
            "ps",
            "ur",
            "vi",
            "zh-CN",
            "ta",
            "hi",
            "pt",
        )
    }

    def _call(self, text: str, source: str, target: str) -> str:
        from deep_translator import GoogleTranslator

        return _deep_translator_call(lambda: GoogleTranslator(source=source, target=target), text)


class LibreEngine(Engine):
    """A (self-hosted) LibreTranslate server, through deep-translator."""

    name = "libre"
    max_chars = 4500
    # deep-translator only accepts the languages of its own table (no uk, fa, ku)
    codes: ClassVar[dict[str, str]] = {
        c: c for c in ("de", "en", "tr", "ar", "ru", "pl", "fr", "es", "it", "pt", "vi", "zh", "hi")
    }

    def __init__(self, url: str, policy: RetryPolicy | None = None):
        super().__init__(policy)
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"LibreTranslate URL must start with http:// or https://: {url!r}")
        self.url = url if url.endswith("/") else url + "/"  # deep-translator appends paths

    def _call(self, text: str, source: str, target: str) -> str:
        from deep_translator import LibreTranslator

        # a self-hosted server often needs no key, but deep-translator insists on one
        key = os.environ.get("LIBRETRANSLATE_API_KEY") or "none"
        return _deep_translator_call(
            lambda: LibreTranslator(source=source, target=target, api_key=key, custom_url=self.url),
            text,
        )


class MyMemoryEngine(Engine):
    name = "mymemory"
    max_chars = 480  # MyMemory refuses 500 characters and more
    codes: ClassVar[dict[str, str]] = {
        "de": "de-DE",
        "en": "en-GB",
        "tr": "tr-TR",
        "ar": "ar-SA",
        "ru": "ru-RU",
        "uk": "uk-UA",
        "pl": "pl-PL",
        "fa": "fa-IR",
        "ku": "kmr-TR",
        "ckb": "ckb-IQ",
    }

    def _call(self, text: str, source: str, target: str) -> str:
        from deep_translator import MyMemoryTranslator

        return _deep_translator_call(lambda: MyMemoryTranslator(source=source, target=target), text)


class MicrosoftEngine(Engine):
    name = "microsoft"
    max_chars = 4500
    codes: ClassVar[dict[str, str]] = {
        "de": "de",
        "en": "en",
        "tr": "tr",
        "ar": "ar",
        "ru": "ru",
        "uk": "uk",
        "pl": "pl",
        "fa": "fa",
        "ku": "kmr",
        "ckb": "ku",
    }  # Microsoft: ku = Sorani, kmr = Kurmanji

    def _call(self, text: str, source: str, target: str) -> str:
        from deep_translator import MicrosoftTranslator

        key = _require_env("MICROSOFT_TRANSLATOR_KEY")
        region = os.environ.get("MICROSOFT_TRANSLATOR_REGION") or None
        return _deep_translator_call(
            lambda: MicrosoftTranslator(api_key=key, region=region, source=source, target=target),
            text,
        )


class DeeplEngine(Engine):
    """DeepL through its own ``deepl`` package: deep-translator's DeepL client sends the
    key as ``auth_key`` in the query string, which DeepL no longer accepts."""

    name = "deepl"
    max_chars = 4500
    codes: ClassVar[dict[str, str]] = {
        "de": "DE",
        "en": "EN-GB",
        "tr": "TR",
        "ar": "AR",
        "ru": "RU",
        "uk": "UK",
        "pl": "PL",
    }

    def _call(self, text: str, source: str, target: str) -> str:
        import deepl

        key = _require_env("DEEPL_AUTH_KEY")
        try:
            translator = deepl.Translator(key, send_platform_info=False)
            result = translator.translate_text(
                text, source_lang=source.split("-")[0], target_lang=target
            )
        except (deepl.ConnectionException, deepl.TooManyRequestsException) as err:
            raise _Transient(type(err).__name__) from err
        except deepl.AuthorizationException as err:
            raise ConfigError("DeepL refused DEEPL_AUTH_KEY") from err
        except deepl.QuotaExceededException as err:
            raise EngineUnavailable("DeepL quota exceeded") from err
        except deepl.DeepLException as err:
            raise EngineRejected(f"DeepL: {type(err).__name__}") from err
        return str(result.text if hasattr(result, "text") else result)


def _require_env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ConfigError(f"set {name} to use this engine")
    return value


def make_engine(name: str, *, libre_url: str = "", policy: RetryPolicy | None = None) -> Engine:
    if name == "google":
        return GoogleEngine(policy)
    if name == "libre":
        url = os.environ.get("LIBRETRANSLATE_URL") or libre_url
        if not url:
            raise ConfigError("set LIBRETRANSLATE_URL or translation.libretranslate_url")
        return LibreEngine(url, policy)
    if name == "mymemory":
        return MyMemoryEngine(policy)
    if name == "microsoft":
        return MicrosoftEngine(policy)
    if name == "deepl":
        return DeeplEngine(policy)
    raise ConfigError(f"unknown engine {name!r} (one of {', '.join(ENGINES)})")
