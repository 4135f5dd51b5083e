#!/usr/bin/env python3
"""The business side of the pywa compatibility suite.

Unmodified pywa from PyPI talks to a Switchboard server whose only change from the
real WhatsApp Cloud API is the base URL (``wa.api._session.base_url``, the override
the wire notes document in section 1). The Rust test
``crates/switchboard/tests/it/pywa.rs`` starts the server, provisions the business,
plays the customer over protocol v1 and drives this program:

* stdout carries one JSON object per line, ``{"event": ...}``, for the Rust side;
* stdin carries one JSON object per line, ``{"cmd": ...}``, from the Rust side;
* stderr is free-form diagnostics (pywa's own logging included).

Any mismatch prints ``{"event": "fail", "message": ...}`` and exits 1, so a server
incompatibility is named in the test's failure, not hidden behind a timeout.

Environment (all required unless noted):
  SB_BASE_URL        the server root, e.g. http://127.0.0.1:4567
  SB_API_VERSION     the Graph version pywa is built for (default 21.0)
  SB_PHONE_NUMBER_ID, SB_WABA_ID, SB_TOKEN, SB_APP_SECRET, SB_VERIFY_TOKEN
  SB_BUSINESS_NAME   the business's name (the phone number's verified_name)
  SB_BUSINESS_PHONE  the business's phone in E.164 (+15550100001)
  SB_CUSTOMER        the customer's wa_id (digits)
  SB_CUSTOMER_NAME   the customer's display name (the webhook's contacts[].profile.name)
  SB_TEMPLATE_NAME, SB_TEMPLATE_LANG   an approved template with two body parameters
  SB_TIMEOUT         seconds to wait for any one step (default 20)
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import queue
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
import zlib

import flask
import pywa
from pywa import WhatsApp, errors, types
from pywa.handlers import CallbackButtonHandler, MessageHandler, MessageStatusHandler
from pywa.types.templates import BodyText, TemplateLanguage
from werkzeug.serving import make_server

TIMEOUT = float(os.environ.get("SB_TIMEOUT", "20"))

# What the customer writes (non-ASCII on purpose: webhook bodies must be ASCII-only
# JSON with \u escapes, and pywa must decode them back to exactly this text).
CUSTOMER_TEXT_PREFIX = "hello from the customer"


class SuiteFailure(Exception):
    """A compatibility mismatch; its message goes to the Rust side verbatim."""


# Failures of independent checks, reported together at the end (or with the first
# blocking failure), so one run names every incompatibility it can reach.
SOFT_FAILURES: list[str] = []


def soft(name: str, step) -> None:
    """Runs a check the rest of the suite does not depend on; records its failure."""
    before = len(SOFT_FAILURES)
    try:
        step()
    except SuiteFailure as e:
        SOFT_FAILURES.append(f"{name}: {e}")
    except errors.WhatsAppError as e:
        SOFT_FAILURES.append(f"{name}: {describe_graph_error(e)}")
    except Exception as e:  # pywa could not parse an answer, typically a KeyError
        tb = traceback.extract_tb(e.__traceback__)
        where = f" at {tb[-1].filename.split('site-packages/')[-1]}:{tb[-1].lineno} `{tb[-1].line}`" if tb else ""
        SOFT_FAILURES.append(f"{name}: pywa raised {type(e).__name__}: {e}{where}")
    if len(SOFT_FAILURES) > before:
        log(f"FAIL (continuing): {SOFT_FAILURES[-1]}")
        emit("check_failed", check=name, message=SOFT_FAILURES[-1])


def describe_graph_error(e: "errors.WhatsAppError") -> str:
    res = e.raw_response
    req = f"{res.request.method} {res.request.url} -> HTTP {res.status_code}: " if res is not None else ""
    return f"{req}pywa raised {type(e).__name__}: code {e.code}: {e.message} ({e.details})"


def emit(event: str, **fields) -> None:
    """One JSON line on stdout for the Rust side."""
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


def log(msg: str) -> None:
    sys.stderr.write(f"pywa_suite: {msg}\n")
    sys.stderr.flush()


def check(cond: bool, what: str) -> None:
    if not cond:
        raise SuiteFailure(what)


def env(name: str, default: str | None = None) -> str:
    v = os.environ.get(name, default)
    if v is None or v == "":
        raise SuiteFailure(f"environment variable {name} is not set")
    return v


def tiny_png() -> bytes:
    """A valid 2x2 RGB PNG built with the standard library (the server sniffs content)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return (
            len(data).to_bytes(4, "big")
            + body
            + (zlib.crc32(body) & 0xFFFFFFFF).to_bytes(4, "big")
        )

    ihdr = (2).to_bytes(4, "big") + (2).to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    raw = b"".join(b"\x00" + bytes([200, 30, 30, 30, 200, 30]) for _ in range(2))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def tiny_pdf() -> bytes:
    """A small, well-formed PDF (one empty page)."""
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objs) + 1,
        xref,
    )
    return bytes(out)


class ParseFailures(logging.Handler):
    """Collects what pywa logs when it cannot build an update from a webhook body.

    pywa answers such a POST with 200 and only logs the exception, so without this a
    server payload pywa cannot parse would show up as a mere timeout.
    """

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.failures: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            tb = traceback.extract_tb(record.exc_info[2])
            where = f"{tb[-1].filename.split('site-packages/')[-1]}:{tb[-1].lineno} `{tb[-1].line}`" if tb else "?"
            self.failures.append(
                f"{record.getMessage()}: {type(exc).__name__}: {exc} at {where}"
            )


class Commands:
    """Reads `{"cmd": ...}` lines from stdin on a thread."""

    def __init__(self) -> None:
        self.q: queue.Queue[dict | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in sys.stdin:
            line = line.strip()
            if line:
                try:
                    self.q.put(json.loads(line))
                except ValueError:
                    log(f"ignoring a malformed command line: {line!r}")
        self.q.put(None)

    def expect(self, name: str) -> dict:
        try:
            cmd = self.q.get(timeout=TIMEOUT)
        except queue.Empty:
            raise SuiteFailure(f"no {name!r} command from the test within {TIMEOUT}s")
        if cmd is None:
            raise SuiteFailure(f"stdin closed while waiting for {name!r}")
        check(cmd.get("cmd") == name, f"expected command {name!r}, got {cmd!r}")
        return cmd


class Suite:
    def __init__(self) -> None:
        self.base_url = env("SB_BASE_URL").rstrip("/")
        self.api_version = env("SB_API_VERSION", "21.0")
        self.phone_id = env("SB_PHONE_NUMBER_ID")
        self.waba_id = env("SB_WABA_ID")
        self.token = env("SB_TOKEN")
        self.app_secret = env("SB_APP_SECRET")
        self.verify_token = env("SB_VERIFY_TOKEN")
        self.business_name = env("SB_BUSINESS_NAME")
        self.business_phone = env("SB_BUSINESS_PHONE")
        self.customer = env("SB_CUSTOMER")
        self.customer_name = env("SB_CUSTOMER_NAME")
        self.template_name = env("SB_TEMPLATE_NAME")
        self.template_lang = env("SB_TEMPLATE_LANG")
        self.commands = Commands()

        # Everything pywa's handlers see, for the main thread.
        self.inbound: queue.Queue[types.Message] = queue.Queue()
        self.buttons: queue.Queue[types.CallbackButton] = queue.Queue()
        self.status_lock = threading.Lock()
        self.status_cond = threading.Condition(self.status_lock)
        self.statuses: dict[str, list[str]] = {}
        self.handler_errors: list[str] = []
        self.reply_ids: dict[str, str] = {}  # inbound message id -> reply id
        # Raw webhook POSTs as received (for diagnostics and the ASCII check).
        self.raw_posts: list[tuple[str | None, bytes]] = []

        self.parse_failures = ParseFailures()
        logging.getLogger("pywa").addHandler(self.parse_failures)

        self.app = flask.Flask("pywa_suite")
        self.app.before_request(self._record_raw)
        self.wa = WhatsApp(
            phone_id=self.phone_id,
            token=self.token,
            server=self.app,
            webhook_endpoint="/webhook",
            verify_token=self.verify_token,
            app_secret=self.app_secret,
            validate_updates=True,
            waba_id=self.waba_id,
            api_version=self.api_version,
        )
        # The one change a Cloud API client makes: the base URL (wire notes §1).
        self.wa.api._session.base_url = f"{self.base_url}/v{self.api_version}"
        self.wa.add_handlers(
            MessageHandler(self._on_message),
            MessageStatusHandler(self._on_status),
            CallbackButtonHandler(self._on_button),
        )
        self.http = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.webhook_url = f"http://127.0.0.1:{self.http.server_port}/webhook"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    # --- pywa's handlers (run on the Flask request thread) -----------------------

    def _record_raw(self) -> None:
        if flask.request.method == "POST":
            self.raw_posts.append(
                (flask.request.headers.get("X-Hub-Signature-256"), flask.request.get_data())
            )

    def _on_message(self, _: WhatsApp, msg: types.Message) -> None:
        try:
            log(f"inbound message {msg.id} type={msg.type} from={msg.from_user.wa_id}")
            text = msg.text or ""
            if text.startswith(CUSTOMER_TEXT_PREFIX):
                # The canonical bot reply, from inside pywa's own handler.
                sent = msg.reply_text(f"echo: {text}", quote=True)
                self.reply_ids[msg.id] = sent.id
            self.inbound.put(msg)
        except errors.WhatsAppError as e:  # the handler must not swallow a failure
            self.handler_errors.append(f"on_message: {describe_graph_error(e)}")
            self.inbound.put(msg)
        except Exception as e:
            self.handler_errors.append(f"on_message: {e!r}")
            self.inbound.put(msg)

    def _on_button(self, _: WhatsApp, btn: types.CallbackButton) -> None:
        log(f"button {btn.data!r} pressed on {btn.reply_to_message}")
        self.buttons.put(btn)

    def _on_status(self, _: WhatsApp, st: types.MessageStatus) -> None:
        log(f"status {st.status} for {st.id}")
        with self.status_cond:
            self.statuses.setdefault(st.id, []).append(str(st.status.value))
            self.status_cond.notify_all()

    # --- steps ----------------------------------------------------------------

    def post_to_own_webhook(self, body: bytes, signature: str | None) -> int:
        req = urllib.request.Request(self.webhook_url, data=body, method="POST")
        req.add_header("Content-Type", "application/json")
        if signature is not None:
            req.add_header("X-Hub-Signature-256", signature)
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as res:
                return res.status
        except urllib.error.HTTPError as e:
            return e.code

    def check_signature_validation_is_on(self) -> None:
        """A forged update must be refused by pywa itself (proves validation is on)."""
        forged = json.dumps(
            {
                "object": "whatsapp_business_account",
                "entry": [
                    {
                        "id": self.waba_id,
                        "changes": [
                            {
                                "field": "messages",
                                "value": {
                                    "messaging_product": "whatsapp",
                                    "metadata": {
                                        "display_phone_number": self.business_phone.lstrip("+"),
                                        "phone_number_id": self.phone_id,
                                    },
                                    "contacts": [
                                        {"profile": {"name": "Mallory"}, "wa_id": self.customer}
                                    ],
                                    "messages": [
                                        {
                                            "from": self.customer,
                                            "id": "wamid.forged",
                                            "timestamp": "1750000000",
                                            "type": "text",
                                            "text": {"body": "forged"},
                                        }
                                    ],
                                },
                            }
                        ],
                    }
                ],
            }
        ).encode()
        wrong = "sha256=" + hashlib.sha256(b"not the app secret" + forged).hexdigest()
        code = self.post_to_own_webhook(forged, wrong)
        check(code == 403, f"pywa accepted a wrongly signed update (HTTP {code}, want 403)")
        code = self.post_to_own_webhook(forged, None)
        check(code == 401, f"pywa accepted an unsigned update (HTTP {code}, want 401)")
        check(self.inbound.empty(), "a forged update reached the message handler")
        # Drop them from the record: they are ours, not the server's.
        self.raw_posts.clear()
        emit("signature_validation_on")

    def register_webhook_through_pywa(self) -> None:
        """pywa's own registration call (POST /{waba_id}/subscribed_apps + handshake)."""
        res = self.wa.override_waba_callback_url(
            callback_url=self.webhook_url, verify_token=self.verify_token
        )
        check(bool(res), f"override_waba_callback_url answered {res!r}")
        emit("webhook_registered_by_pywa")

    def check_phone_number(self) -> None:
        pn = self.wa.get_business_phone_number()
        check(str(pn.id) == self.phone_id, f"get_business_phone_number: id {pn.id!r}, want {self.phone_id!r}")
        check(
            pn.verified_name == self.business_name,
            f"get_business_phone_number: verified_name {pn.verified_name!r}, want {self.business_name!r}",
        )
        digits = "".join(c for c in (pn.display_phone_number or "") if c.isdigit())
        check(
            digits == self.business_phone.lstrip("+"),
            f"get_business_phone_number: display_phone_number {pn.display_phone_number!r}, want {self.business_phone!r}",
        )
        emit(
            "phone_number",
            verified_name=pn.verified_name,
            display_phone_number=pn.display_phone_number,
            quality_rating=str(pn.quality_rating),
        )

    def check_business_profile(self) -> None:
        res = self.wa.update_business_profile(
            about="Flights and more",
            address="1 Runway Road, Tel Aviv",
            description="Compatibility suite airline",
            email="help@example.com",
            industry=types.Industry.TRAVEL,
            websites=["https://example.com/", "https://example.org/help"],
        )
        check(bool(res), f"update_business_profile answered {res!r}")
        p = self.wa.get_business_profile()
        want = {
            "about": "Flights and more",
            "address": "1 Runway Road, Tel Aviv",
            "description": "Compatibility suite airline",
            "email": "help@example.com",
            "industry": types.Industry.TRAVEL,
            "websites": ["https://example.com/", "https://example.org/help"],
        }
        for field, value in want.items():
            got = getattr(p, field)
            if isinstance(got, tuple):
                got = list(got)
            check(got == value, f"get_business_profile: {field} {got!r}, want {value!r}")
        emit("business_profile", about=p.about, industry=str(p.industry))

    def check_media(self, data: bytes, mime: str, filename: str) -> str:
        media = self.wa.upload_media(media=data, mime_type=mime, filename=filename)
        check(str(media.id).isdigit(), f"upload_media: id {media.id!r} is not numeric")
        info = self.wa.get_media_url(media.id)
        check(str(info.id) == str(media.id), f"get_media_url: id {info.id!r}, want {media.id!r}")
        check(info.mime_type == mime, f"get_media_url: mime_type {info.mime_type!r}, want {mime!r}")
        check(
            int(info.file_size) == len(data),
            f"get_media_url: file_size {info.file_size!r}, want {len(data)}",
        )
        digest = hashlib.sha256(data).digest()
        check(
            info.sha256 in (digest.hex(), base64.b64encode(digest).decode()),
            f"get_media_url: sha256 {info.sha256!r} is neither hex nor base64 of the bytes' digest",
        )
        check(
            info.url.startswith(("http://", "https://")),
            f"get_media_url: url {info.url!r} is not absolute",
        )
        with tempfile.TemporaryDirectory() as d:
            path = self.wa.download_media(url=info.url, path=d, filename=filename)
            with open(path, "rb") as f:
                got = f.read()
        check(got == data, f"download_media: {len(got)} bytes differ from the {len(data)} uploaded")
        # The promise beyond Meta: the signed URL works without the bearer token.
        try:
            with urllib.request.urlopen(info.url, timeout=TIMEOUT) as res:
                bare = res.read()
        except urllib.error.HTTPError as e:
            raise SuiteFailure(f"GET {info.url} without a token: HTTP {e.code}") from None
        check(bare == data, "the media URL without a token served different bytes")
        emit("media", id=str(media.id), mime_type=mime, size=len(data), sha256=info.sha256)
        return str(media.id)

    def check_template(self) -> str:
        sent = self.wa.send_template(
            to=self.customer,
            name=self.template_name,
            language=TemplateLanguage(self.template_lang),
            params=[BodyText.params("LY001", "10:05")],
        )
        check(bool(sent.id), f"send_template: no message id in {sent!r}")
        emit("template_sent", id=sent.id)
        return sent.id

    def check_templates_list(self) -> None:
        """get_templates (with pywa's summary fields) and get_template see it APPROVED."""
        res = self.wa.get_templates()
        found = [d for d in res if d.name == self.template_name]
        check(found, f"get_templates: {self.template_name!r} not among {[d.name for d in res]}")
        check(
            str(found[0].status) == "APPROVED",
            f"get_templates: {self.template_name!r} has status {found[0].status!r}, want APPROVED",
        )
        one = self.wa.get_template(found[0].id)
        check(one.name == self.template_name, f"get_template: name {one.name!r}")
        emit("templates", count=len(res))

    def check_window_closed(self) -> None:
        """Before the customer writes, free-form text is refused with 131047."""
        try:
            sent = self.wa.send_message(to=self.customer, text="outside the window")
        except errors.ReEngagementMessage as e:
            emit("window_enforced", code=e.code)
            return
        except errors.WhatsAppError as e:
            raise SuiteFailure(
                f"free-form text outside the 24 h window: got error {e.code} ({e.message}), want 131047"
            ) from None
        raise SuiteFailure(
            f"free-form text outside the 24 h window was accepted (id {sent.id}), want error 131047"
        )

    def fail_on_parse_failures(self, waiting_for: str) -> None:
        """A webhook body pywa cannot parse is an incompatibility: fail at once."""
        if self.parse_failures.failures:
            raise SuiteFailure(f"while waiting for {waiting_for}: {self.describe_posts()}")

    def wait_inbound(self) -> types.Message:
        deadline = time.monotonic() + TIMEOUT
        while True:
            self.fail_on_parse_failures("the customer's message")
            try:
                msg = self.inbound.get(timeout=0.2)
                break
            except queue.Empty:
                if time.monotonic() > deadline:
                    raise SuiteFailure(
                        f"no customer message reached pywa's on_message within {TIMEOUT}s; "
                        f"{self.describe_posts()}"
                    ) from None
        check(not self.handler_errors, f"handler failed: {self.handler_errors}")
        return msg

    def describe_posts(self) -> str:
        """What the server POSTed, and what pywa made of it, for failure messages."""
        parse = ""
        if self.parse_failures.failures:
            distinct = list(dict.fromkeys(self.parse_failures.failures))
            parse = (
                f"pywa could not parse {len(self.parse_failures.failures)} webhook update(s): "
                + " | ".join(distinct)
                + "; "
            )
        return parse + "webhook POSTs received: " + self._posts()

    def _posts(self) -> str:
        if not self.raw_posts:
            return "none"
        out = []
        for sig, body in self.raw_posts[-5:]:
            out.append(f"[sig={sig!r} body={body[:600]!r}]")
        return f"{len(self.raw_posts)} (last ones: {' '.join(out)})"

    def wait_statuses(self, ids: dict[str, list[str]]) -> None:
        """Waits until every id has seen every wanted status."""

        def missing() -> dict[str, list[str]]:
            return {
                i: [s for s in want if s not in self.statuses.get(i, [])]
                for i, want in ids.items()
                if any(s not in self.statuses.get(i, []) for s in want)
            }

        deadline = time.monotonic() + TIMEOUT
        with self.status_cond:
            while True:
                self.fail_on_parse_failures(f"statuses {missing()}")
                ok = self.status_cond.wait_for(lambda: not missing(), timeout=0.2)
                if ok or time.monotonic() > deadline:
                    break
            if not ok:
                raise SuiteFailure(
                    f"statuses missing after {TIMEOUT}s: {missing()}; seen: {self.statuses}; "
                    f"{self.describe_posts()}"
                )

    def check_ascii_and_signed(self) -> None:
        for sig, body in self.raw_posts:
            check(
                all(b < 0x80 for b in body),
                f"a webhook body is not ASCII-only JSON: {body[:300]!r}",
            )
            check(
                sig is not None and sig.startswith("sha256="),
                f"a webhook POST lacks X-Hub-Signature-256 (got {sig!r})",
            )

    def run(self) -> None:
        log(f"pywa {pywa.__version__}")
        self.check_signature_validation_is_on()
        emit("listening", url=self.webhook_url, pywa=pywa.__version__)
        # The Rust side configures the webhook through the admin API (that sets the
        # app secret and runs the handshake against pywa's route), then says so.
        self.commands.expect("webhook_configured")
        self.register_webhook_through_pywa()

        soft("get_business_phone_number", self.check_phone_number)
        soft("business profile", self.check_business_profile)
        soft("templates list", self.check_templates_list)
        doc_id = self.check_media(tiny_pdf(), "application/pdf", "boarding-pass.pdf")
        img_id = self.check_media(tiny_png(), "image/png", "seat-map.png")
        soft("24 h window", self.check_window_closed)
        template_id = self.check_template()

        emit("await_customer")
        msg = self.wait_inbound()
        check(
            msg.from_user.wa_id == self.customer,
            f"inbound message: from {msg.from_user.wa_id!r}, want {self.customer!r}",
        )
        check(
            msg.from_user.name == self.customer_name,
            f"inbound message: contact name {msg.from_user.name!r}, want {self.customer_name!r}",
        )
        check(
            (msg.text or "").startswith(CUSTOMER_TEXT_PREFIX),
            f"inbound message: text {msg.text!r}, want it to start with {CUSTOMER_TEXT_PREFIX!r}",
        )
        reply_id = self.reply_ids.get(msg.id)
        check(reply_id is not None, "the handler did not reply")
        emit("inbound", id=msg.id, text=msg.text, reply_id=reply_id)

        res = self.wa.mark_message_as_read(msg.id)
        check(bool(res), f"mark_message_as_read answered {res!r}")
        text_id = self.wa.send_message(to=self.customer, text="Your gate is B7. \u2708").id
        doc_msg = self.wa.send_document(
            to=self.customer, document=doc_id, filename="boarding-pass.pdf", caption="Boarding pass"
        ).id
        img_msg = self.wa.send_image(to=self.customer, image=img_id, caption="Seat map").id
        reaction_id = msg.react("\U0001f44d").id
        location_id = self.wa.send_location(
            to=self.customer,
            latitude=32.0114,
            longitude=34.8867,
            name="Ben Gurion Airport",
            address="Terminal 3",
        ).id
        buttons_id = self.wa.send_message(
            to=self.customer,
            text="Keep your window seat?",
            buttons=[
                types.Button(title="Yes, keep it", callback_data="keep-12A"),
                types.Button(title="Change", callback_data="change-12A"),
            ],
        ).id
        emit(
            "sent",
            reply_id=reply_id,
            text_id=text_id,
            document_id=doc_msg,
            image_id=img_msg,
            reaction_id=reaction_id,
            location_id=location_id,
            buttons_id=buttons_id,
            template_id=template_id,
        )

        # The customer taps "Yes, keep it": pywa's on_callback_button.
        deadline = time.monotonic() + TIMEOUT
        while True:
            self.fail_on_parse_failures("the customer's button reply")
            try:
                btn = self.buttons.get(timeout=0.2)
                break
            except queue.Empty:
                if time.monotonic() > deadline:
                    raise SuiteFailure(
                        f"no button reply reached pywa's on_callback_button within {TIMEOUT}s; "
                        f"{self.describe_posts()}"
                    ) from None
        check(btn.data == "keep-12A", f"button reply: data {btn.data!r}, want 'keep-12A'")
        check(btn.title == "Yes, keep it", f"button reply: title {btn.title!r}, want 'Yes, keep it'")
        check(
            btn.reply_to_message is not None and btn.reply_to_message.id == buttons_id,
            f"button reply: context {btn.reply_to_message!r}, want the buttons message {buttons_id!r}",
        )
        emit("button", data=btn.data, title=btn.title)

        # The customer acknowledges everything delivered, then read.
        full = ["sent", "delivered", "read"]
        self.wait_statuses(
            {
                i: full
                for i in (reply_id, text_id, doc_msg, img_msg, location_id, buttons_id, template_id)
            }
        )
        with self.status_lock:
            order = list(self.statuses[reply_id])
        check(
            [s for s in order if s in full][:3] == full,
            f"statuses of the reply arrived as {order}, want sent, delivered, read in order",
        )
        self.check_ascii_and_signed()
        emit("statuses", statuses=self.statuses)
        if SOFT_FAILURES:
            raise SuiteFailure("the end-to-end flow passed, but other checks failed")
        emit("done")


def fail(message: str, tb: str = "") -> int:
    """Reports the blocking failure together with every earlier soft one."""
    if SOFT_FAILURES:
        message += "\n  also failed:\n" + "\n".join(f"  - {f}" for f in SOFT_FAILURES)
    emit("fail", message=message, traceback=tb)
    log(f"FAIL: {message}\n{tb}")
    return 1


def main() -> int:
    try:
        Suite().run()
        return 0
    except SuiteFailure as e:
        return fail(str(e))
    except errors.WhatsAppError as e:
        # A Graph error from the server where success was expected.
        return fail(describe_graph_error(e), traceback.format_exc())
    except Exception as e:
        return fail(f"{type(e).__name__}: {e}", traceback.format_exc())


if __name__ == "__main__":
    sys.exit(main())
