"""Deterministic generator of realistic feed record corpora for benchmarks.

Run ``python benchmarks/corpus.py N DIR --seed S``, or import and call ``generate``.
"""

from __future__ import annotations

import argparse
import base64
import re
import unicodedata
from bisect import bisect
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import accumulate, product
from pathlib import Path
from random import Random
from typing import NamedTuple

__all__ = ["generate", "main"]

END = datetime(2024, 6, 30, 23, 59, tzinfo=UTC)
START = datetime(2021, 7, 1, 0, 0, tzinfo=UTC)
SPAN_MINUTES = int((END - START).total_seconds()) // 60

# Typographic characters are escaped so the source stays ASCII (and ruff's confusables check quiet).
RSQUO = "\u2019"
MDASH = "\u2014"

# Head of the topic distribution, most popular first.  Each pair marked below slugifies alike
# on purpose, so the publisher's slug-collision handling is exercised by every corpus.
HEAD_TOPICS = [
    "AI",
    "Cybersecurity",
    "Cloud Computing",
    "AI in Healthcare",
    "Generative AI",
    "AI & ML",  # pair: ai-ml
    "Data Privacy",
    "Digital Health",
    "Zero Trust",  # pair: zero-trust
    "Quantum Computing",
    "AI Ethics",
    "AI ML",  # pair: ai-ml
    "Telehealth",
    "Open Source",  # pair: open-source
    "Ransomware",
    "Edge Computing",
    "Health Tech",  # pair: health-tech
    "Semiconductors",
    "Zero-Trust",  # pair: zero-trust
    "Pok\u00e9mon Go",  # pair: pokemon-go (only after accent folding)
    "Open-Source",  # pair: open-source
    "Health-Tech",  # pair: health-tech
    "Pokemon Go",  # pair: pokemon-go
]

TOPIC_HEADS = [
    "AI", "Cloud", "Health", "Security", "Quantum", "Data", "Edge", "Fintech", "Robotics",
    "Blockchain", "5G", "IoT", "DevOps", "Privacy", "Climate Tech", "Biotech", "Cyber",
    "Supply Chain", "Open Source", "Machine Learning", "Automation", "Analytics", "Identity",
    "Networking", "Storage", "Mobile", "Wearables", "Genomics", "Digital Twins", "Low-Code",
    "AR & VR", "Payments", "Chatbots", "Computer Vision", "Observability", "Serverless",
    "Kubernetes", "Energy Storage", "Satellites", "Drones",
]
TOPIC_FIELDS = [
    "Healthcare", "Finance", "Retail", "Manufacturing", "Education", "Government", "Energy",
    "Logistics", "Insurance", "Media", "Telecom", "Agriculture", "Pharma", "Banking",
    "Hospitals", "Radiology", "Oncology", "Mental Health", "Public Sector", "Transportation",
    "Real Estate", "Utilities", "Defense", "Gaming", "Nursing", "Clinical Trials", "Aviation",
    "Automotive", "Hospitality", "Legal",
]
TOPIC_SUFFIXES = [
    "Ethics", "Regulation", "Strategy", "Startups", "Research", "Infrastructure", "Adoption",
    "Policy", "Talent", "Funding", "Standards", "Outages", "Breaches", "Costs", "Governance",
    "Partnerships", "Trends", "Hardware", "Skills", "Benchmarks", "Compliance", "Platforms",
    "Tools", "Pilots", "Procurement",
]

# Providers named in the sample records, then other real outlets; generated names fill the tail.
KNOWN_PROVIDERS = [
    ("CIO", "cio.com"),
    ("Becker's Hospital Review", "beckershospitalreview.com"),
    ("STAT", "statnews.com"),
    ("healthpayerintelligence.com", "healthpayerintelligence.com"),
    ("TechCrunch", "techcrunch.com"),
    ("Healthcare IT News", "healthcareitnews.com"),
    ("The Verge", "theverge.com"),
    ("ZDNET", "zdnet.com"),
    ("Fierce Healthcare", "fiercehealthcare.com"),
    ("VentureBeat", "venturebeat.com"),
    ("Ars Technica", "arstechnica.com"),
    ("Computerworld", "computerworld.com"),
    ("Dark Reading", "darkreading.com"),
    ("The Register", "theregister.com"),
    ("MIT Technology Review", "technologyreview.com"),
    ("Wired", "wired.com"),
    ("InformationWeek", "informationweek.com"),
    ("MobiHealthNews", "mobihealthnews.com"),
    ("Healthcare Dive", "healthcaredive.com"),
    ("IEEE Spectrum", "spectrum.ieee.org"),
    ("Les \u00c9chos", "lesechos.fr"),
    ("heise online", "heise.de"),
    ("Computer Weekly", "computerweekly.com"),
    ("The New Stack", "thenewstack.io"),
    ("Harvard Business Review", "hbr.org"),
    ("Modern Healthcare", "modernhealthcare.com"),
    ("SecurityWeek", "securityweek.com"),
    ("Network World", "networkworld.com"),
    ("InfoQ", "infoq.com"),
    ("Quanta Magazine", "quantamagazine.org"),
]
OUTLET_FIRST = [
    "Health", "Cloud", "Data", "Tech", "Digital", "Cyber", "Pharma", "Fin", "Retail", "Edge",
    "Clinical", "Quantum", "Silicon", "Network", "Code", "Hospital", "Payer", "Bio", "Energy",
    "Grid", "Metro", "Coastal", "Northern", "Pacific", "Atlantic", "Alpine", "Prairie",
    "Capital", "Harbor", "Summit", "Civic", "Lab", "Signal", "Pixel", "Vector", "Orbit",
    "Vertex", "Kernel", "Byte", "Medical",
]
OUTLET_MIDDLE = [
    "IT", "Policy", "Security", "Systems", "Markets", "Innovation", "Leaders", "Care",
    "Infrastructure", "Ops", "Science", "Business", "Industry", "Research", "Startup", "Analytics",
    "Enterprise", "Software", "Device", "Trade",
]
OUTLET_LAST = [
    "Pulse", "Wire", "Insider", "Daily", "Beat", "Review", "Times", "Journal", "Report", "Weekly",
    "Dive", "Intelligence", "Today", "Now", "Brief", "Post", "Herald", "Digest", "Watch", "Monitor",
    "Observer", "Ledger", "Gazette", "Dispatch", "Chronicle",
]
TLDS = ["com", "com", "com", "com", "io", "net", "org", "co.uk", "de", "fr", "news", "tech"]

ORGS = [
    "hospitals", "health systems", "banks", "insurers", "retailers", "manufacturers", "utilities",
    "universities", "city governments", "startups", "payers", "pharma companies", "telecoms",
    "airlines", "logistics firms", "school districts", "credit unions", "clinics",
]
ROLES = [
    "CIOs", "CISOs", "CTOs", "IT leaders", "data scientists", "clinicians", "developers",
    "security teams", "CFOs", "product managers", "nurses", "regulators", "analysts", "engineers",
    "board members", "procurement teams",
]
COMPANIES = [
    "Microsoft", "Google", "Amazon", "Nvidia", "IBM", "Epic", "Oracle", "Salesforce", "OpenAI",
    "Meta", "Apple", "Intel", "Siemens", "Nestl\u00e9", "Soci\u00e9t\u00e9 G\u00e9n\u00e9rale",
    "Mayo Clinic", "Kaiser Permanente", "Cleveland Clinic", "Z\u00fcrich Insurance",
    f"L{RSQUO}Or\u00e9al", "AT&T", "Procter & Gamble", "Johnson & Johnson", "Ernst & Young",
    "Deloitte", "Samsung", "TSMC", "SAP", "Philips", "Cerner",
]
VERBS = [
    "cut", "speed up", "rethink", "scale", "secure", "automate", "simplify", "modernize",
    "measure", "protect", "monetize", "untangle", "overhaul", "streamline",
]
NOUNS = [
    "patient intake", "claims processing", "supply chains", "fraud detection",
    "clinical workflows", "customer service", "software delivery", "data pipelines", "hiring",
    "compliance reporting", "energy use", "network operations", "prior authorization",
    "drug discovery", "cloud costs", "billing", "incident response", "care coordination",
]
CONCERNS = [
    "cost overruns", "privacy worries", "talent shortages", "regulatory uncertainty",
    "legacy systems", "data quality problems", "vendor lock-in", "security risks",
    "patchy adoption", "trust issues", "budget cuts", "integration headaches",
]
ADJECTIVES = [
    "real-time", "AI-enabled", "cloud-native", "secure", "low-code", "open", "responsible",
    "scalable", "patient-centred", "data-driven", "next-gen", "hybrid", "sovereign", "na\u00efve",
]
BUZZWORDS = [
    "zero trust", "shift left", "AI-first", "lift and shift", "move fast", "digital front door",
    "single pane of glass", "human in the loop", "data mesh", "platform engineering",
]
PLACES = [
    "S\u00e3o Paulo", "Z\u00fcrich", "M\u00fcnchen", "Montr\u00e9al", "Chicago", "London",
    "Singapore", "Bengaluru", "Qu\u00e9bec", "Malm\u00f6", "Krak\u00f3w", "Boston", "Austin",
]
SECTIONS = [
    "innovation", "health-it", "cybersecurity", "finance", "digital-transformation", "ai", "cloud",
    "policy", "workforce", "news",
]
IMAGE_WORDS = [
    "healthcare_technology", "medical_data", "cloud_computing", "cyber_security", "ai_brain",
    "data_center", "doctor_tablet", "network_abstract", "robot_hand", "binary_code",
]
COMMON_WIDTHS = [480, 640, 800, 1024, 1200, 1280, 1600, 1920, 2400]
ASPECTS = [(16, 9), (4, 3), (3, 2), (1, 1), (2, 1), (9, 16), (5, 4)]

TITLE_TEMPLATES = [
    "Top {k} {topic} uses, per {role}",
    "{topic}: The tech is here, the {role} are not",
    "How {company} is using {topic} to {verb} {noun}",
    'Why "{buzz}" isn\'t enough to {verb} {noun}',
    "{Role} press ahead for {topic} edge " + MDASH + " despite misgivings",
    "{company}" + RSQUO + "s {topic} bet could {verb} {noun}",
    "{topic} & {topic2}: what {role} should watch in {year}",
    "Inside {company}'s plan to {verb} {noun} with {topic}",
    "{Org} in {place} turn to {topic} as {concern} mount",
    "The {adjective} future of {noun}: {k} lessons from {company}",
    "{topic} adoption slows as {role} weigh {concern}",
    "Q&A: {company}" + RSQUO + "s CTO on {topic}, {noun} and {concern}",
    "{k} ways {topic} will {verb} {noun} in {year}",
    "Opinion: {topic} won" + RSQUO + "t fix {noun} on its own",
    'Is {topic} ready for {org}? "Not yet," say {role}',
    "{company} and {company2} team up on {adjective} {noun}",
    "Patch now: flaw in C:\\Windows\\System32 driver exposes {noun} at {org}",
    "{topic} spending to hit ${amount}B by {year}, analysts say",
]
# Tails avoid slots the templates use, so padding never repeats a phrase already in the title.
TITLE_TAILS = [
    " in {year}",
    " " + MDASH + " and what comes next",
    ", report finds",
    ": what {place} is doing differently",
    " as {concern} mount",
]
SENTENCE_TEMPLATES = [
    "A new survey of {n} {role} finds {pct}% plan to increase spending on {topic} this year.",
    "{Org} are pushing forward {topic} pilots despite {concern}.",
    "Experts say {topic} could {verb} {noun} " + MDASH + " but {concern} are still a hurdle.",
    "Here" + RSQUO + "s what {role} need to know before {year}.",
    "Learn why {org} are embracing {topic} slower than other industries.",
    "{company} says its {adjective} approach has already helped {verb} {noun}.",
    "The biggest challenges are {concern} and gaining acceptance from {role}.",
    "\u201cWe" + RSQUO + "re not there yet,\u201d one executive in {place} said.",
    "Critics call the rollout na\u00efve & premature.",
    "Innovative solutions continue to emerge.",
    "It's a familiar story for {role}: \"{buzz}\" sounds simple until {concern} show up.",
    "Pricing starts at \u20ac{price} per seat, with a free tier for {org}.",
    "Read on for {k} takeaways from {company} and {company2}.",
    "{Role} in {place} told us {noun} is where {topic} pays off first.",
]

_SLUG_JUNK = re.compile(r"[^a-z0-9]+")
# Conservative: anything outside this stays readable as a plain YAML scalar only by luck.
_PLAIN_SAFE = re.compile(r"[A-Za-z0-9\u00c0-\u024f][A-Za-z0-9\u00c0-\u024f &'.\-\u2019]*")
_NUMBER_LIKE = re.compile(r"[-+]?(?:0[xob][0-9a-fA-F_]+|[0-9][0-9_.eE+-]*)")
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


class Provider(NamedTuple):
    name: str
    domain: str
    host: str
    url_style: int
    image_style: int


class Vocabulary(NamedTuple):
    topics: list[str]
    topic_lines: list[str]  # pre-rendered list items
    topic_weights: list[float]
    providers: list[Provider]
    provider_weights: list[float]
    provider_blocks: list[tuple[str, str]]  # pre-rendered at top-level and at related indent


def quoted(text: str) -> str:
    """A YAML double-quoted scalar; the corpus never contains control characters."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def plain(text: str) -> str:
    """``text`` unquoted like the samples' topics and provider names, or quoted if YAML needs it."""
    if (
        _PLAIN_SAFE.fullmatch(text)
        and not _NUMBER_LIKE.fullmatch(text)
        and text.lower() not in _YAML_WORDS
        and not text.endswith(" ")
    ):
        return text
    return quoted(text)


def slugify(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = _SLUG_JUNK.sub("-", folded.lower()).strip("-")
    # CMSs cap URL slugs; cutting at a hyphen keeps the last word whole.
    if len(slug) <= 80:
        return slug
    cut = slug.rfind("-", 0, 81)
    return slug[:cut] if cut > 0 else slug[:80]


def zipf_weights(count: int, exponent: float) -> list[float]:
    """Cumulative Zipf weights, so a single bisect picks an item."""
    return list(accumulate(1.0 / rank**exponent for rank in range(1, count + 1)))


def pick(rng: Random, cumulative: Sequence[float]) -> int:
    """An index drawn by cumulative weight: Random.choices' arithmetic minus its per-call setup."""
    return bisect(cumulative, rng.random() * cumulative[-1], 0, len(cumulative) - 1)


def build_topics(rng: Random, count: int) -> list[str]:
    candidates = [*TOPIC_HEADS, *TOPIC_FIELDS]
    candidates += [f"{h} in {f}" for h, f in product(TOPIC_HEADS, TOPIC_FIELDS)]
    candidates += [f"{h} {s}" for h, s in product(TOPIC_HEADS, TOPIC_SUFFIXES)]
    candidates += [f"{h} for {f}" for h, f in product(TOPIC_HEADS, TOPIC_FIELDS)]
    candidates += [f"{f} {s}" for f, s in product(TOPIC_FIELDS, TOPIC_SUFFIXES)]
    candidates += [f"{a} & {b}" for a, b in product(TOPIC_HEADS, TOPIC_HEADS) if a < b]
    triples = product(TOPIC_HEADS, TOPIC_SUFFIXES, TOPIC_FIELDS)
    candidates += [f"{h} {s} in {f}" for h, s, f in triples]
    rng.shuffle(candidates)
    topics = list(HEAD_TOPICS)
    # Only the deliberate pairs may collide, by slug or by case.
    taken = {slugify(t) for t in topics} | {t.casefold() for t in topics}
    for name in candidates:
        if len(topics) >= count:
            break
        slug, folded = slugify(name), name.casefold()
        if slug not in taken and folded not in taken:
            taken.update((slug, folded))
            topics.append(name)
    return topics


def build_providers(rng: Random, count: int) -> list[Provider]:
    named = list(KNOWN_PROVIDERS)
    names = [f"{a} {c}" for a, c in product(OUTLET_FIRST, OUTLET_LAST)]
    names += [f"{a} {b} {c}" for a, b, c in product(OUTLET_FIRST, OUTLET_MIDDLE, OUTLET_LAST)]
    rng.shuffle(names)
    domains = {domain for _, domain in named}
    for name in names:
        if len(named) >= count:
            break
        domain = f"{name.replace(' ', '').lower()}.{rng.choice(TLDS)}"
        if domain in domains:
            continue
        domains.add(domain)
        # Some outlets have no display name, so aggregators fall back to the domain.
        named.append((domain if rng.random() < 0.1 else name, domain))
    providers = []
    for name, domain in named[:count]:
        host = domain if rng.random() < 0.3 or domain.count(".") > 1 else f"www.{domain}"
        providers.append(Provider(name, domain, host, rng.randrange(5), rng.randrange(5)))
    return providers


def build_vocabulary(rng: Random, n: int) -> Vocabulary:
    topics = build_topics(rng, max(50, n // 20))
    providers = build_providers(rng, max(20, n // 100))
    blocks = [
        (
            f"provider:\n  name: {plain(p.name)}\n  domain: {p.domain}",
            f"    provider:\n      name: {plain(p.name)}\n      domain: {p.domain}",
        )
        for p in providers
    ]
    return Vocabulary(
        topics=topics,
        topic_lines=[f"  - {plain(t)}" for t in topics],
        topic_weights=zipf_weights(len(topics), 1.1),
        providers=providers,
        provider_weights=zipf_weights(len(providers), 1.2),
        provider_blocks=blocks,
    )


class Slots(dict[str, str]):
    """Template slots drawn lazily, so a template only consumes randomness for what it uses."""

    def __init__(self, rng: Random, topic: str, other_topic: str) -> None:
        super().__init__(topic=topic, topic2=other_topic)
        self.rng = rng

    def __missing__(self, key: str) -> str:
        rng = self.rng
        value: str
        match key:
            case "role" | "Role":
                value = rng.choice(ROLES)
            case "org" | "Org":
                value = rng.choice(ORGS)
            case "company":
                value = rng.choice(COMPANIES)
            case "company2":
                # "Nvidia and Nvidia team up" would read as a bug, not as news.
                first = self["company"]
                value = first
                while value == first:
                    value = rng.choice(COMPANIES)
            case "verb":
                value = rng.choice(VERBS)
            case "noun":
                value = rng.choice(NOUNS)
            case "concern":
                value = rng.choice(CONCERNS)
            case "adjective":
                value = rng.choice(ADJECTIVES)
            case "buzz":
                value = rng.choice(BUZZWORDS)
            case "place":
                value = rng.choice(PLACES)
            case "year":
                value = str(rng.randrange(2022, 2028))
            case "k":
                value = str(rng.randrange(3, 11))
            case "n":
                value = str(rng.randrange(50, 2000))
            case "pct":
                value = str(rng.randrange(5, 95))
            case "price":
                value = str(rng.randrange(5, 120))
            case "amount":
                value = str(rng.randrange(2, 400))
            case _:
                raise KeyError(key)
        if key[0].isupper():
            value = value[0].upper() + value[1:]
        self[key] = value
        return value


def second_topic(rng: Random, vocab: Vocabulary, names: list[str], first: str) -> str:
    others = [name for name in names if name != first]
    if others:
        return rng.choice(others)
    # "AI & AI: what CIOs should watch" reads as a generator bug, so borrow another topic.
    while True:
        other = vocab.topics[pick(rng, vocab.topic_weights)]
        if other != first:
            return other


def clip(text: str, limit: int) -> str:
    """Shorten at a word boundary to at most ``limit`` characters, ending with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > 0 else limit - 1].rstrip(" ,:;" + MDASH) + "\u2026"


def make_title(rng: Random, slots: Slots) -> str:
    title = rng.choice(TITLE_TEMPLATES).format_map(slots)
    # Most headlines fit the template; some run long, as in real feeds.
    target = 40 if rng.random() < 0.8 else rng.randrange(70, 121)
    for tail in rng.sample(TITLE_TAILS, len(TITLE_TAILS)):
        if len(title) >= target:
            break
        title += tail.format_map(slots)
    return clip(title, 120)


def make_excerpt(rng: Random, slots: Slots) -> str:
    sentences: list[str] = []
    length = -1  # the joined length: one space fewer than sentences
    target = rng.randrange(120, 301)
    # Drawn without replacement: a sentence said twice in one excerpt gives the generator away.
    for template in rng.sample(SENTENCE_TEMPLATES, len(SENTENCE_TEMPLATES)):
        if length >= target:
            break
        sentence = template.format_map(slots)
        sentences.append(sentence)
        length += len(sentence) + 1
    return clip(" ".join(sentences), 300)


def article_urls(rng: Random, provider: Provider, slug: str, when: datetime) -> tuple[str, str]:
    """The web URL and AMP URL, laid out the way this provider's CMS does it."""
    base = f"https://{provider.host}"
    match provider.url_style:
        case 0 | 1:
            web = f"{base}/article/{rng.randrange(100_000, 4_000_000)}/{slug}.html"
            amp = web[:-5] + ".amp.html" if provider.url_style == 0 else web + "/amp/"
        case 2:
            section = rng.choice(SECTIONS)
            web = f"{base}/{section}/{slug}.html"
            amp = f"{base}/amp/{section}/{slug}.html"
        case 3:
            web = f"{base}/news/{slug}"
            amp = f"{base}/news/amp/{slug}"
        case _:
            web = f"{base}/{when:%Y/%m/%d}/{slug}/"
            amp = web + "amp/"
    return web, amp


def cdn_amp_url(provider: Provider, amp: str) -> str:
    # The AMP cache encodes the host: "-" doubles, then "." becomes "-".
    cache_host = provider.host.replace("-", "--").replace(".", "-")
    return f"https://{cache_host}.cdn.ampproject.org/c/s/{amp.removeprefix('https://')}"


def image_lines(rng: Random, provider: Provider, when: datetime, indent: str) -> list[str]:
    width = rng.choice(COMMON_WIDTHS) if rng.random() < 0.5 else rng.randrange(100, 2401)
    ratio_w, ratio_h = rng.choice(ASPECTS)
    height = min(2400, max(100, width * ratio_h // ratio_w))
    digits = rng.randrange(10**9, 10**10)
    match provider.image_style:
        case 0:
            url = (
                f"https://{provider.host}/wp-content/uploads/{when:%Y/%m}/shutterstock_{digits}.jpg"
                f"?quality=50&strip=all&w={width}"
            )
        case 1:
            word = rng.choice(IMAGE_WORDS)
            url = (
                f"https://images.{provider.domain}/images/article/{when:%Y/%m}/"
                f"{word}_gettyimages-{digits}_{width}x{height}-{digits % 10**9}-large.jpg"
            )
        case 2:
            url = (
                f"https://{provider.host}/images/sized/GettyImages-{digits}-"
                f"{rng.getrandbits(128):032x}.jpg"
            )
        case 3:
            label = provider.domain.split(".")[0]
            url = f"https://{provider.host}/templates/{label}/assets/images/{label}-logo.png"
        case _:
            url = f"https://cdn.{provider.domain}/media/{rng.getrandbits(48):012x}/{digits}.webp"
    cached = "true" if rng.random() < 0.9 else "false"
    return [
        f"{indent}- url: {quoted(url)}",
        f"{indent}  width: {width}",
        f"{indent}  height: {height}",
        f"{indent}  isCached: {cached}",
    ]


def iso(when: datetime) -> str:
    return f"{when:%Y-%m-%dT%H:%M}:00Z"


def related_lines(
    rng: Random, vocab: Vocabulary, topics: list[str], when: datetime
) -> list[str]:
    index = pick(rng, vocab.provider_weights)
    provider = vocab.providers[index]
    # Related stories run shortly before or after the article; keep them inside the corpus window.
    offset = rng.randrange(-3 * 1440, 5 * 1440)
    moment = min(END, max(START, when + timedelta(minutes=offset)))
    first = rng.choice(topics)
    slots = Slots(rng, first, second_topic(rng, vocab, topics, first))
    title = make_title(rng, slots)
    excerpt = make_excerpt(rng, slots)
    web, amp = article_urls(rng, provider, slugify(title), moment)
    lines = [
        f"  - title: {quoted(title)}",
        f"    excerpt: {quoted(excerpt)}",
        f"    publishedDateTime: {iso(moment)}",
        f"    webUrl: {quoted(web)}",
        f"    ampWebUrl: {quoted(amp)}",
        f"    cdnAmpWebUrl: {quoted(cdn_amp_url(provider, amp))}",
        "    type: article",
        vocab.provider_blocks[index][1],
        f"    quality: {rng.randrange(20, 100)}",
    ]
    if rng.random() < 0.6:
        lines.append("    images:")
        lines += image_lines(rng, provider, moment, "      ")
    return lines


def render_record(rng: Random, vocab: Vocabulary, minute: int) -> str:
    """One record file's text, in the samples' field order, quoting and grouping."""
    when = START + timedelta(minutes=minute)
    index = pick(rng, vocab.provider_weights)
    provider = vocab.providers[index]

    wanted = rng.choices((1, 2, 3, 4, 5), (20, 30, 25, 15, 10))[0]
    chosen: list[int] = []
    for _ in range(wanted * 4):  # popular topics repeat; bounded retries keep it O(1)
        topic = pick(rng, vocab.topic_weights)
        if topic not in chosen:
            chosen.append(topic)
            if len(chosen) == wanted:
                break
    names = [vocab.topics[t] for t in chosen]
    slots = Slots(rng, names[0], second_topic(rng, vocab, names, names[0]))
    title = make_title(rng, slots)
    excerpt = make_excerpt(rng, slots)
    web, amp = article_urls(rng, provider, slugify(title), when)
    # Feeds often hand out tracking links; the canonical webUrl drops them.
    original = web + "?utm_source=rss&utm_medium=feed" if rng.random() < 0.1 else web
    published = rng.random() >= 0.15
    heat = -1 if not published or rng.random() < 0.15 else rng.randrange(0, 101)
    quality = min(100, max(0, round(rng.gauss(60, 15))))

    lines = [
        "---",
        "category: news",
        f"title: {quoted(title)}",
        f"excerpt: {quoted(excerpt)}",
        f"publishedDateTime: {iso(when)}",
        f"originalUrl: {quoted(original)}",
        f"webUrl: {quoted(web)}",
    ]
    if rng.random() < 0.8:
        lines.append(f"ampWebUrl: {quoted(amp)}")
        if rng.random() < 0.85:
            lines.append(f"cdnAmpWebUrl: {quoted(cdn_amp_url(provider, amp))}")
    lines += [
        "type: article",
        f"quality: {quality}",
        f"heat: {heat}",
        f"published: {'true' if published else 'false'}",
        "",
        vocab.provider_blocks[index][0],
        "",
        "topics:",
        *(vocab.topic_lines[t] for t in chosen),
        "",
    ]
    image_count = rng.choices((0, 1, 2, 3), (20, 50, 20, 10))[0]
    if image_count:
        lines.append("images:")
        for _ in range(image_count):
            lines += image_lines(rng, provider, when, "  ")
        lines.append("")
    related_count = rng.choices((0, 1, 2, 3, 4), (25, 30, 20, 15, 10))[0]
    if related_count:
        lines.append("related:")
        for _ in range(related_count):
            lines += related_lines(rng, vocab, names, when)
        lines.append("")
    # Shaped like the samples: an AES-sized ciphertext and a 16-byte IV, both base64.
    blob = base64.b64encode(rng.randbytes(16 * rng.randrange(13, 27))).decode()
    iv = base64.b64encode(rng.randbytes(16)).decode()
    lines += [f'secured: "{blob};{iv}"', "---", "", ""]
    return "\n".join(lines)


def generate(n: int, out_dir: Path, seed: int = 0) -> int:
    """Write ``n`` record files into ``out_dir`` (created if missing); returns files written."""
    rng = Random(seed)
    vocab = build_vocabulary(rng, n)
    out_dir.mkdir(parents=True, exist_ok=True)
    seen_ids: set[int] = set()
    minutes: list[int] = []
    for number in range(n):
        record_id = rng.getrandbits(64)
        while record_id in seen_ids:
            record_id = rng.getrandbits(64)
        seen_ids.add(record_id)
        # Wire copy lands on many sites in the same minute, so exact ties must occur.
        tie = bool(minutes) and rng.random() < 0.03
        minute = rng.choice(minutes) if tie else rng.randrange(SPAN_MINUTES + 1)
        minutes.append(minute)
        text = render_record(rng, vocab, minute)
        (out_dir / f"{number:07d}_{record_id:016x}.txt").write_bytes(text.encode())
    return n


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("n", type=int, help="number of records to write")
    parser.add_argument("out_dir", type=Path, help="directory to write the record files into")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    if args.n < 0:
        parser.error("N must be zero or more")
    written = generate(args.n, args.out_dir, args.seed)
    print(f"wrote {written} records to {args.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
