"""WordPress: full articles through the REST API, authenticated with an Application Password.

What we send (see ``docs/channels/wordpress.md``)::

    POST {site}/wp-json/wp/v2/posts             (or {site}/?rest_route=/wp/v2/posts)
    Authorization: Basic base64(username:app_password)
    {"title": "…", "content": "<sanitized HTML>", "excerpt": "…", "status": "publish",
     "slug": "<title>-<marker>", "categories": [3], "tags": [7, 9], ...}

WordPress answers 201 with the post (``id``, ``link``). A new revision of an item updates that
post in place (``POST /wp/v2/posts/{id}``), so a blog never shows the same article twice; updates
are idempotent, creates are not (``safety_for``). The slug embeds the publication's marker, so
reconciliation finds a post exactly (``GET /wp/v2/posts?slug=…``).

Bodies in Markdown are converted with markdown-it-py with raw HTML disabled, then everything is
sanitized with nh3 through :func:`syndicate.channels.markup.sanitize_html`; a visible "Originally published
at" paragraph links back to the tagged canonical URL, and an SEO plugin's canonical meta field is
set when the account names it. Categories and tags are given by name and resolved to ids (created
when the account allows). Sites without pretty permalinks answer 404 on ``/wp-json/``: we then use
``/?rest_route=`` and remember that per site in the account's shared state.

With ``upload_media`` the item's images go to the site's media library first (``POST /wp/v2/media``
with the file as the body, its name carrying the publication's marker, and ``alt_text``); the
article's images point at the uploaded copies and the first becomes ``featured_media``. A retry
finds an upload whose answer was lost by its name (``GET /wp/v2/media?slug=``) and uses it.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlsplit

import requests
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from requests.auth import HTTPBasicAuth

from syndicate.base.locales import language
from syndicate.channels import (
    AccountContext,
    Capability,
    ConfigError,
    ConfigProblem,
    ContentError,
    Duration,
    HttpAdapter,
    InDoubt,
    Limits,
    LocaleTag,
    MediaRef,
    MediaSpec,
    MediaStore,
    PermanentError,
    PostContent,
    PublicationRef,
    Receipt,
    Rendered,
    Safety,
    StatusMap,
    TransientError,
    WebUrl,
    answer_text,
    get_logger,
    is_loopback,
    markdown_to_html,
    redact,
    sanitize_html,
    with_direction,
)

__all__ = ["WORDPRESS_LIMITS", "WordPressAdapter", "WordPressOptions", "markdown_to_html", "slug_base"]

log = get_logger("adapters.wordpress")

#: The longest article we send, in characters: far below PHP's default ``post_max_size`` (8 MB).
MAX_CONTENT_CHARS = 1_000_000
#: WordPress stores slugs of up to 200 characters; ours are a readable part and the marker.
_SLUG_READABLE_CHARS = 60
#: How long to wait after a 429 without ``Retry-After`` (WordPress core sets none; plugins may).
DEFAULT_RATE_LIMIT_WAIT = timedelta(minutes=5)
ImageType = Literal["image/jpeg", "image/png", "image/gif", "image/webp"]
#: Image types WordPress core lets an Author upload (``get_allowed_mime_types``; WebP since 5.8).
DEFAULT_MEDIA_TYPES: tuple[ImageType, ...] = ("image/jpeg", "image/png", "image/gif", "image/webp")
#: The largest image uploaded unless the account says otherwise: set ``max_upload_bytes`` to the
#: site's "Maximum upload file size" (Media → Add New), which PHP's ``upload_max_filesize`` sets.
DEFAULT_MAX_UPLOAD_BYTES = 8 * 1024 * 1024

WORDPRESS_LIMITS = Limits(max_length=MAX_CONTENT_CHARS, max_parts=1, max_media=10)

_TAXONOMY = r"^[a-z0-9][a-z0-9_-]{0,31}$"
_META_KEY = r"^[A-Za-z0-9_][A-Za-z0-9_:-]{0,254}$"


def _check_site(url: str) -> str:
    """``url`` without a trailing slash; plain http only to a loopback address (the password is in every request)."""
    if urlsplit(url).scheme != "https" and not is_loopback(url):
        raise ValueError(f"{url}: WordPress sites are reached over https (plain http only on loopback), "
                         "because every request carries the application password")
    return url.rstrip("/")


def slug_base(title: str, fallback: str) -> str:
    """A readable ASCII slug from ``title`` (accents folded), else from ``fallback``; at most 60 characters,
    ending at a word where it can."""
    for text in (title, fallback):
        folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
        slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")
        if len(slug) > _SLUG_READABLE_CHARS:
            head = slug[:_SLUG_READABLE_CHARS + 1]
            cut = head.rfind("-")  # end at a word when one ends in the second half
            slug = head[:cut] if cut > _SLUG_READABLE_CHARS // 2 else head[:_SLUG_READABLE_CHARS].strip("-")
        if slug:
            return slug
    return "post"


class WordPressOptions(BaseModel):
    """Options of a WordPress account.

    Attributes:
        status: ``publish`` (or ``future`` by itself when the item's time is ahead), ``draft`` or
            ``pending`` (for an editor to review on the site).
        categories: category names every post gets.
        tags_from_item: the item's tags become post tags.
        extra_tags: tag names every post gets.
        create_terms: create categories and tags that do not exist yet (the user needs the
            ``manage_categories`` capability); otherwise a missing one fails the post, naming it.
        canonical_meta_key: a post meta field an SEO plugin reads as the canonical URL (e.g.
            Yoast's ``_yoast_wpseo_canonical``); set only when given, and it must be registered for
            the REST API on the site.
        notice: the visible back-link paragraph; ``{link}`` becomes the link to the tagged
            canonical URL.
        notice_by_locale: the same, per locale.
        sites: a different site per locale (``de-DE: https://example.de``); other locales use
            the account's ``base_url``.
        language_param: a request field naming the post's language (Polylang Pro: ``lang``).
        language_taxonomy: REST base of a language taxonomy; the post gets the term named by the
            language code.
        language_codes: the code per locale for either; default the language subtag (``de``).
        future_after: the item's time must be at least this far ahead for ``status: future``.
        include_cta: add the call to action as a paragraph after the body.
        include_media: put the item's images at the top of the article.
        upload_media: upload the item's images to the site's media library (``POST /wp/v2/media``),
            with their alt text, and point the article's images at the uploaded copies; otherwise
            the article shows them from the item's URLs (the default, as before uploads existed).
        featured_image: with ``upload_media``, make the first image the post's featured image
            (``featured_media``).
        media_types: the image types the site accepts (checked before any upload).
        max_upload_bytes: the largest image the site accepts, in bytes.
        rate_limit_wait: how long to wait after a 429 without ``Retry-After``.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    status: Literal["publish", "draft", "pending"] = "publish"
    categories: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(default_factory=list)
    tags_from_item: bool = True
    extra_tags: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] = Field(default_factory=list)
    create_terms: bool = False
    canonical_meta_key: Annotated[str, StringConstraints(pattern=_META_KEY)] | None = None
    notice: str = "Originally published at {link}."
    notice_by_locale: dict[LocaleTag, str] = Field(default_factory=dict)
    sites: dict[LocaleTag, WebUrl] = Field(default_factory=dict)
    language_param: Annotated[str, StringConstraints(pattern=_TAXONOMY)] | None = None
    language_taxonomy: Annotated[str, StringConstraints(pattern=_TAXONOMY)] | None = None
    language_codes: dict[LocaleTag, Annotated[str, StringConstraints(min_length=1, max_length=32)]] = Field(
        default_factory=dict)
    future_after: Duration = timedelta(minutes=1)
    include_cta: bool = True
    include_media: bool = True
    upload_media: bool = False
    featured_image: bool = True
    media_types: list[ImageType] = Field(
        default_factory=lambda: list(DEFAULT_MEDIA_TYPES), min_length=1)
    max_upload_bytes: int = Field(default=DEFAULT_MAX_UPLOAD_BYTES, ge=1024)
    rate_limit_wait: Duration = DEFAULT_RATE_LIMIT_WAIT

    @model_validator(mode="after")
    def _check(self) -> WordPressOptions:
        for where, text in [("notice", self.notice), *((f"notice_by_locale.{k}", v)
                                                        for k, v in self.notice_by_locale.items())]:
            if text.count("{link}") != 1:
                raise ValueError(f"{where} must contain {{link}} exactly once")
        for loc, url in self.sites.items():
            try:
                _check_site(url)
            except ValueError as exc:
                raise ValueError(f"sites.{loc}: {exc}") from None
        if self.language_param and self.language_taxonomy:
            raise ValueError("give language_param or language_taxonomy, not both")
        return self


def _is_rest_error(resp: requests.Response) -> bool:
    """Whether a 404 came from WordPress's REST API (a JSON ``code``), not from the web server."""
    try:
        data = resp.json()
    except ValueError:
        return False
    return isinstance(data, dict) and isinstance(data.get("code"), str)


#: An HTML tag in an error message (``[^<>]``: a run of ``<`` must not be read once per ``<``).
_TAG = re.compile(r"<[^<>]+>")


def _platform_message(resp: requests.Response) -> str | None:
    """WordPress's error text: ``code: message`` from the JSON body, else the start of the raw body."""
    try:
        data = resp.json()
    except ValueError:
        return answer_text(resp, limit=300)
    if isinstance(data, dict) and ("message" in data or "code" in data):
        message = _TAG.sub("", str(data.get("message") or ""))
        code = data.get("code")
        params = (data.get("data") or {}).get("params") if isinstance(data.get("data"), dict) else None
        if isinstance(params, dict) and params:
            message += " (" + "; ".join(f"{k}: {v}" for k, v in params.items()) + ")"
        return redact(f"{code}: {message}" if code else message)[:1000]
    return redact(str(data)[:4096])[:300]


class WordPressAdapter(HttpAdapter[WordPressOptions]):
    """Publishes full articles to a WordPress site (or one site per locale)."""

    name = "wordpress"
    required_credentials = ("username", "app_password")
    publish_safety = Safety.RECONCILE_ONLY
    #: A revision updates the post in place; ``unpublish`` moves it to the trash.
    capabilities = frozenset({Capability.UPDATE, Capability.DELETE, Capability.EXISTS})
    #: A blog post links back to the canonical page as a referral, not a social network.
    default_utm_medium = "referral"
    statuses = StatusMap(platform="WordPress", messages=dict.fromkeys(
        (401, 403), "WordPress refused {what} for account {account!r} (a wrong application password, or the user "
                    "lacks the capability)"))

    def __init__(self, account: AccountContext) -> None:
        super().__init__(account)
        self._base: str | None = None
        if account.base_url:
            try:
                self._base = _check_site(account.base_url)
            except ValueError as exc:
                raise ConfigError([ConfigProblem("accounts.yaml", None, f"accounts.{account.id}.base_url",
                                                 str(exc))]) from None
        elif not self.options.sites:
            raise ConfigError([ConfigProblem("accounts.yaml", None, f"accounts.{account.id}",
                                             "a WordPress account needs base_url (or options.sites per locale)")])
        self._plain_sites: set[str] = set()
        self._terms: dict[tuple[str, str, str], int] = {}

    @property
    def limits(self) -> Limits:
        """Articles of up to 1,000,000 characters of HTML, up to 10 images."""
        return WORDPRESS_LIMITS

    def safety_for(self, publication: PublicationRef) -> Safety:
        """Updating an earlier revision's post is idempotent; creating one is not."""
        return Safety.IDEMPOTENT if publication.previous_remote_id else Safety.RECONCILE_ONLY

    # -- rendering ---------------------------------------------------------------------------

    def _site(self, locale: str) -> str | None:
        site = self.options.sites.get(locale)
        return _check_site(site) if site else self._base

    def _language_code(self, locale: str) -> str:
        return self.options.language_codes.get(locale) or language(locale)

    def render(self, content: PostContent) -> Rendered:
        """The article as sanitized HTML, with its title, excerpt and terms by name."""
        opts = self.options
        site = self._site(content.locale)
        if site is None:
            raise ContentError(f"account {self.account.id!r} has no WordPress site for {content.locale} "
                               "(set base_url or options.sites)", item_id=content.item_id)
        warnings: list[str] = []
        parts: list[str] = []
        if opts.include_media:
            for m in content.media:
                if m.kind != "image":
                    parts.append(f'<p><a href="{html.escape(m.url)}">{html.escape(m.alt or m.url)}</a></p>')
                    continue
                if not m.alt:
                    warnings.append(f"media {m.url} has no alt text")
                parts.append(f'<figure><img src="{html.escape(m.url)}" alt="{html.escape(m.alt or "")}"></figure>')
        body = content.body if content.body_format == "html" else markdown_to_html(content.body)
        if body.strip():
            parts.append(body.strip())
        if opts.include_cta and content.cta_text:
            target = content.cta_url or content.link
            parts.append(f'<p><a href="{html.escape(target)}">{html.escape(content.cta_text)}</a></p>')
        template = opts.notice_by_locale.get(content.locale, opts.notice)
        before, _, after = template.partition("{link}")
        anchor = f'<a href="{html.escape(content.link)}">{html.escape(content.canonical_url)}</a>'
        parts.append(f"<p>{html.escape(before, quote=False)}{anchor}{html.escape(after, quote=False)}</p>")
        text = sanitize_html("\n".join(parts))
        if content.rtl:
            text = with_direction(text, content.locale)  # <div lang=".." dir="rtl">, after sanitizing
        if len(text) > MAX_CONTENT_CHARS:
            raise ContentError(f"the article is {len(text):,} characters of HTML, over {MAX_CONTENT_CHARS:,}",
                               item_id=content.item_id)
        tags: list[str] = []
        for tag in [*(content.tags if opts.tags_from_item else ()), *opts.extra_tags]:
            if tag.casefold() not in {t.casefold() for t in tags}:
                tags.append(tag)
        language_code = self._language_code(content.locale) if (opts.language_param or opts.language_taxonomy) else None
        return Rendered(
            text=text, length=len(text), limit=MAX_CONTENT_CHARS, link=content.link, format="html",
            title=html.escape(content.title, quote=False), media=self._media_for(content.media),
            extra={
                "site": site, "excerpt": html.escape(content.summary, quote=False),
                "slug_base": slug_base(content.title, content.item_id),
                "categories": list(opts.categories), "tags": tags, "language": language_code,
                "publish_at": content.published_at.astimezone(UTC).isoformat() if content.published_at else None,
                "canonical_url": content.canonical_url,
            },
            warnings=tuple(warnings))

    def _media_for(self, media: tuple[MediaRef, ...]) -> tuple[MediaRef, ...]:
        """The media a post carries: all shown in the article, or only the featured image."""
        opts = self.options
        if opts.include_media:
            return media
        if opts.upload_media and opts.featured_image:
            return tuple(m for m in media if m.kind == "image")[:1]
        return ()

    # -- HTTP --------------------------------------------------------------------------------

    def platform_message(self, resp: requests.Response) -> str | None:
        """WordPress's error text: ``code: message`` from the JSON body, else the body's start."""
        return _platform_message(resp)

    def wait_until(self) -> datetime:
        """After a 429 without ``Retry-After``: the account's ``rate_limit_wait`` from now."""
        return datetime.now(UTC) + self.options.rate_limit_wait

    def _plain(self, site: str) -> bool:
        if site in self._plain_sites:
            return True
        state = self.account.state
        if state is not None:
            stored = state.get(f"rest_route:{site}")
            if stored is not None and stored[0] is True:
                self._plain_sites.add(site)
                return True
        return False

    def _remember_plain(self, site: str) -> None:
        self._plain_sites.add(site)
        log.warning("wordpress.pretty_permalinks_off", account=self.account.id, site=site,
                    using="?rest_route=")
        state = self.account.state
        if state is not None and state.get(f"rest_route:{site}") is None:
            state.put(f"rest_route:{site}", True, expect_version=None)

    @staticmethod
    def _url(site: str, route: str, query: str, plain: bool) -> str:
        if plain:
            return f"{site}/?rest_route={quote(route, safe='/')}" + (f"&{query}" if query else "")
        return f"{site}/wp-json{route}" + (f"?{query}" if query else "")

    def _raw(self, method: str, url: str, *, creates: bool, json_body: Any, what: str, **extra: Any
             ) -> requests.Response:
        creds = self.account.credentials
        if json_body is not None:
            extra["json"] = json_body
        return self.request(method, url, creates=creates, what=what,
                            auth=HTTPBasicAuth(creds.get("username"), creds.get("app_password")), **extra)

    def _send(self, site: str, method: str, route: str, *, query: str = "", json_body: Any = None,
              creates: bool = False, what: str, **extra: Any) -> requests.Response:
        """One REST call; falls back to ``?rest_route=`` when the site's ``/wp-json/`` is a plain 404.
        ``extra`` goes to ``requests`` (``data=``, ``headers=`` for a file upload)."""
        plain = self._plain(site)
        resp = self._raw(method, self._url(site, route, query, plain), creates=creates, json_body=json_body,
                         what=what, **extra)
        if not plain and resp.status_code == 404 and not _is_rest_error(resp):
            # The web server, not WordPress, answered: pretty permalinks are off. Nothing was created.
            self._remember_plain(site)
            resp = self._raw(method, self._url(site, route, query, True), creates=creates, json_body=json_body,
                             what=what, **extra)
        return resp

    # -- media -------------------------------------------------------------------------------

    @property
    def media_spec(self) -> MediaSpec:
        """The image types and size this account's site takes."""
        o = self.options
        return MediaSpec("this WordPress site", dict.fromkeys(o.media_types, o.max_upload_bytes))

    def _media_name(self, rendered: Rendered, publication: PublicationRef, index: int) -> str:
        """The uploaded file's name without extension; WordPress makes it the attachment's slug, so
        a retry finds an upload whose answer was lost (``GET /wp/v2/media?slug=``)."""
        return f"{rendered.extra['slug_base']}-{publication.marker}-{index + 1}"

    def _find_media(self, site: str, name: str) -> dict[str, Any] | None:
        what = f"looking up the media {name!r}"
        resp = self._send(site, "GET", "/wp/v2/media", query=f"slug={quote(name, safe='')}&per_page=10", what=what)
        if resp.status_code != 200:
            raise self.status_error(resp, creates=False, what=what)
        found = self.json(resp, creates=False, what=what)
        for media in found if isinstance(found, list) else []:
            if isinstance(media, dict) and media.get("slug") == name and isinstance(media.get("id"), int):
                return media
        return None

    def _upload(self, site: str, ref: MediaRef, rendered: Rendered, publication: PublicationRef,
                index: int) -> tuple[int, str]:
        """``(id, source_url)`` of ``ref`` in the site's media library: the copy an earlier attempt
        uploaded when there is one, else fetched (once per item revision), checked and uploaded now.

        An upload creates an attachment, not the post: one whose answer is lost is an orphan until
        the retry finds it by its name and uses it, so no image is uploaded twice.
        """
        name = self._media_name(rendered, publication, index)
        existing = self._find_media(site, name)
        if existing is None:
            store = self.account.media or MediaStore()
            medium = store.load(ref.url, item_id=publication.item_id, revision=publication.revision,
                                spec=self.media_spec, time_limit=timedelta(seconds=sum(self.timeouts)))
            what = f"the upload of {ref.url}"
            query = f"alt_text={quote(ref.alt, safe='')}" if ref.alt else ""
            resp = self._send(site, "POST", "/wp/v2/media", query=query, what=what, data=medium.data,
                              headers={"Content-Type": medium.content_type,
                                       "Content-Disposition": f'attachment; filename="{name}{medium.extension}"'})
            if resp.status_code != 201:
                raise self.status_error(resp, creates=False, what=what)
            existing = self.json(resp, creates=False, what=what)
            log.info("wordpress.media_uploaded", account=self.account.id, site=site, url=ref.url,
                     media_id=existing.get("id") if isinstance(existing, dict) else None, bytes=medium.size)
        else:
            log.info("wordpress.media_reused", account=self.account.id, site=site, url=ref.url,
                     media_id=existing.get("id"))
        media_id = existing.get("id") if isinstance(existing, dict) else None
        source = existing.get("source_url") if isinstance(existing, dict) else None
        if not isinstance(media_id, int) or not isinstance(source, str):
            raise TransientError(f"WordPress's answer to the upload of {ref.url} has no id and source_url")
        return media_id, source

    def _with_uploads(self, rendered: Rendered, publication: PublicationRef, site: str,
                      body: dict[str, Any]) -> None:
        """Upload the article's images; point its ``<img>`` at the copies; set the featured image."""
        opts = self.options
        images = [m for m in rendered.media if m.kind == "image"]
        if not images or not opts.upload_media:
            return
        if not opts.include_media:
            images = images[:1] if opts.featured_image else []  # the featured image only
        content = str(body["content"])
        featured: int | None = None
        for i, ref in enumerate(images):
            media_id, source = self._upload(site, ref, rendered, publication, i)
            featured = media_id if featured is None else featured
            new_src = f'src="{html.escape(source)}"'
            for old in {html.escape(ref.url), ref.url}:
                content = content.replace(f'src="{old}"', new_src)
        body["content"] = content
        if opts.featured_image and featured is not None:
            body["featured_media"] = featured

    # -- terms -------------------------------------------------------------------------------

    def _term_id(self, site: str, taxonomy: str, name: str) -> int:
        key = (site, taxonomy, name.casefold())
        cached = self._terms.get(key)
        if cached is not None:
            return cached
        what = f"looking up the {taxonomy} term {name!r}"
        # WordPress stores term names HTML-escaped ("Q&amp;A") and searches the stored form.
        search = quote(html.escape(name, quote=False), safe="")
        resp = self._send(site, "GET", f"/wp/v2/{taxonomy}", query=f"search={search}&per_page=100", what=what)
        if resp.status_code != 200:
            raise self.status_error(resp, creates=False, what=what)
        found = self.json(resp, creates=False, what=what)
        for term in found if isinstance(found, list) else []:
            if isinstance(term, dict) and html.unescape(str(term.get("name", ""))).casefold() == name.casefold():
                self._terms[key] = int(term["id"])
                return self._terms[key]
        if not self.options.create_terms:
            raise PermanentError(f"the {taxonomy} term {name!r} does not exist on {site}, and account "
                                 f"{self.account.id!r} does not create terms (create_terms: false)")
        what = f"creating the {taxonomy} term {name!r}"
        resp = self._send(site, "POST", f"/wp/v2/{taxonomy}", json_body={"name": name}, what=what)
        data = self.json(resp, creates=False, what=what) if resp.status_code in (200, 201, 400) else None
        if resp.status_code in (200, 201) and isinstance(data, dict) and "id" in data:
            self._terms[key] = int(data["id"])
        elif (resp.status_code == 400 and isinstance(data, dict) and data.get("code") == "term_exists"
              and isinstance(data.get("data"), dict) and "term_id" in data["data"]):
            self._terms[key] = int(data["data"]["term_id"])  # made meanwhile (another worker)
        else:
            raise self.status_error(resp, creates=False, what=what)
        log.info("wordpress.term_created", account=self.account.id, site=site, taxonomy=taxonomy, term=name,
                 term_id=self._terms[key])
        return self._terms[key]

    # -- the contract ------------------------------------------------------------------------

    def _slug(self, rendered: Rendered, publication: PublicationRef) -> str:
        return f"{rendered.extra['slug_base']}-{publication.marker}"

    def _post_body(self, rendered: Rendered, site: str) -> dict[str, Any]:
        opts = self.options
        extra = rendered.extra
        body: dict[str, Any] = {"title": rendered.title or "", "content": rendered.text,
                                "excerpt": extra.get("excerpt", ""), "status": opts.status}
        publish_at = extra.get("publish_at")
        if opts.status == "publish" and publish_at:
            when = datetime.fromisoformat(publish_at)
            if when > datetime.now(UTC) + opts.future_after:
                body["status"] = "future"
                body["date_gmt"] = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        body["categories"] = [self._term_id(site, "categories", n) for n in extra.get("categories") or []]
        body["tags"] = [self._term_id(site, "tags", n) for n in extra.get("tags") or []]
        code = extra.get("language")
        if code and opts.language_param:
            body[opts.language_param] = code
        if code and opts.language_taxonomy:
            body[opts.language_taxonomy] = [self._term_id(site, opts.language_taxonomy, code)]
        if opts.canonical_meta_key:
            body["meta"] = {opts.canonical_meta_key: extra.get("canonical_url") or rendered.link}
        return body

    def _receipt(self, data: Any, *, creates: bool, what: str) -> Receipt:
        if not (isinstance(data, dict) and isinstance(data.get("id"), int) and isinstance(data.get("link"), str)):
            msg = f"WordPress's answer to {what} has no post id and link"
            raise InDoubt(msg) if creates else TransientError(msg)
        return Receipt(remote_id=str(data["id"]), permalink=data["link"],
                       raw={"id": data["id"], "status": data.get("status"), "slug": data.get("slug")})

    def publish(self, rendered: Rendered, publication: PublicationRef) -> Receipt:
        """Create the post, or update the earlier revision's post in place."""
        site = str(rendered.extra.get("site") or self._site(publication.locale))
        body = self._post_body(rendered, site)
        self._with_uploads(rendered, publication, site, body)
        if publication.previous_remote_id:
            return self.update(rendered, publication, publication.previous_remote_id)
        body["slug"] = self._slug(rendered, publication)
        what = "the new post"
        resp = self._send(site, "POST", "/wp/v2/posts", json_body=body, creates=True, what=what)
        if resp.status_code != 201:
            raise self.status_error(resp, creates=True, what=what)
        return self._receipt(self.json(resp, creates=True, what=what), creates=True, what=what)

    def update(self, rendered: Rendered, publication: PublicationRef, remote_id: str) -> Receipt:
        """``POST /wp/v2/posts/<id>`` with the new revision: same id, same slug, same permalink."""
        site = str(rendered.extra.get("site") or self._site(publication.locale))
        body = self._post_body(rendered, site)
        what = f"the update of post {remote_id}"
        resp = self._send(site, "POST", f"/wp/v2/posts/{quote(remote_id, safe='')}", json_body=body,
                          creates=True, what=what)
        if resp.status_code == 404:
            raise PermanentError(f"post {remote_id} of the earlier revision no longer exists on {site}",
                                 status=404, platform_message=_platform_message(resp))
        if resp.status_code != 200:
            raise self.status_error(resp, creates=True, what=what)
        return self._receipt(self.json(resp, creates=True, what=what), creates=True, what=what)

    def delete(self, remote_id: str, publication: PublicationRef) -> None:
        """``DELETE /wp/v2/posts/<id>?force=false``: the post goes to the trash (an editor can restore
        it). A post already trashed (410 ``rest_already_trashed``) or gone (404) is done."""
        site = self._site(publication.locale) or ""
        what = f"the deletion of post {remote_id}"
        resp = self._send(site, "DELETE", f"/wp/v2/posts/{quote(remote_id, safe='')}", query="force=false",
                          creates=True, what=what)
        if resp.status_code == 200 or (resp.status_code in (404, 410) and _is_rest_error(resp)):
            return
        raise self.status_error(resp, creates=True, what=what)

    def exists(self, remote_id: str, publication: PublicationRef) -> bool:
        """Whether post ``remote_id`` is on the site and not in the trash."""
        site = self._site(publication.locale) or ""
        what = f"looking up post {remote_id}"
        resp = self._send(site, "GET", f"/wp/v2/posts/{quote(remote_id, safe='')}", query="context=edit", what=what)
        if resp.status_code == 404 and _is_rest_error(resp):
            return False
        if resp.status_code != 200:
            raise self.status_error(resp, creates=False, what=what)
        post = self.json(resp, creates=False, what=what)
        if not isinstance(post, dict) or "status" not in post:
            raise InDoubt(f"WordPress's answer to {what} has no status")
        return bool(post["status"] != "trash")

    def find_existing(self, rendered: Rendered, publication: PublicationRef) -> Receipt | None:
        """The post whose slug carries this publication's marker, in any state but trash.

        An update in place is idempotent, so for one this answers None ("do it again").
        """
        if publication.previous_remote_id:
            return None
        site = str(rendered.extra.get("site") or self._site(publication.locale))
        slug = self._slug(rendered, publication)
        query = f"slug={quote(slug, safe='')}&status=publish,future,draft,pending&per_page=10"
        code = rendered.extra.get("language")
        if code and self.options.language_param:
            query += f"&{self.options.language_param}={quote(str(code), safe='')}"
        what = f"looking up the post with slug {slug!r}"
        resp = self._send(site, "GET", "/wp/v2/posts", query=query, what=what)
        if resp.status_code != 200:
            raise self.status_error(resp, creates=False, what=what)
        posts = self.json(resp, creates=False, what=what)
        if not isinstance(posts, list):
            raise InDoubt(f"WordPress's answer to {what} is not a list of posts")
        for post in posts:
            if isinstance(post, dict) and post.get("slug") == slug:
                return self._receipt(post, creates=False, what=what)
        return None

    def fetch_metrics(self, remote_id: str, publication: PublicationRef) -> Mapping[str, int] | None:
        """WordPress core counts no views; comments live elsewhere: no metrics."""
        return None
