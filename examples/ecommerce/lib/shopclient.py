#!/usr/bin/python3
"""HTTP(S) client for the example shop, used by shop.sh (standard library only).

  shopclient.py wait  URL [--release V] [--timeout S]   until /health/ answers ok (and serves V)
  shopclient.py order URL --count N [--user U --password P]
      logs in once, then per order: add one product to the cart, check out. Prints each created
      order id on stdout; each failure on stderr. Exit 0 when all succeeded, 1 otherwise.
"""
import argparse
import http.cookiejar
import json
import os
import re
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

SKUS = ("MUG-1", "NOTE-1", "TEE-1")


def opener():
    # The shop is on 127.0.0.1: never go through an http_proxy from the environment. Its HTTPS
    # certificate comes from the shop's test CA (SHOP_CA_FILE, set by shop.sh), verified as usual.
    context = ssl.create_default_context(cafile=os.environ.get("SHOP_CA_FILE") or None)
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}),
        urllib.request.HTTPSHandler(context=context),
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
    )


def call(op, url, form=None, timeout=30):
    """(status, parsed JSON body or None, raw text). Connection errors raise OSError."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        with op.open(urllib.request.Request(url, data=data), timeout=timeout) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    text = raw.decode("utf-8", "replace")
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    return status, body, text


def wait(args):
    deadline = time.monotonic() + args.timeout
    last = "no answer yet"
    op = opener()
    while time.monotonic() < deadline:
        try:
            status, body, text = call(op, args.url.rstrip("/") + "/health/", timeout=2)
            if status == 200 and body and body.get("status") == "ok":
                if not args.release or body.get("release") == args.release:
                    print(text)
                    return 0
                last = f"serving release {body.get('release')!r}, waiting for {args.release!r}"
            else:
                last = f"HTTP {status}: {text[:200]}"
        except OSError as e:
            last = str(getattr(e, "reason", e))
        time.sleep(0.2)
    print(f"shop not healthy after {args.timeout:g}s at {args.url}: {last}", file=sys.stderr)
    return 1


def order(args):
    base = args.url.rstrip("/")
    op = opener()
    status, body, text = call(op, base + "/api/login/", {"username": args.user, "password": args.password})
    if status != 200:
        print(f"login as {args.user} failed: HTTP {status}: {text[:200]}", file=sys.stderr)
        return 1
    placed = failed = 0
    slowest = 0.0
    for i in range(args.count):
        sku = SKUS[i % len(SKUS)]
        status, body, text = call(op, base + "/api/cart/add/", {"product": sku, "quantity": 1})
        if status == 200:
            started = time.monotonic()
            status, body, text = call(op, base + "/api/checkout/", {})
            slowest = max(slowest, time.monotonic() - started)
        if status == 201 and body:
            print(body["order"], flush=True)
            placed += 1
            continue
        failed += 1
        # JSON errors carry "error"; Django's own 500 page is HTML: keep its words.
        detail = (body or {}).get("error") or " ".join(re.sub(r"<[^>]*>", " ", text).split())[:120]
        print(f"order {i + 1} ({sku}) failed: HTTP {status}: {detail}", file=sys.stderr)
    summary = f"placed {placed} of {args.count} orders"
    summary += f", {failed} failed" if failed else ""
    print(f"{summary} (slowest checkout {slowest:.2f}s)", file=sys.stderr)
    return 0 if failed == 0 else 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)
    w = sub.add_parser("wait")
    w.add_argument("url")
    w.add_argument("--release")
    w.add_argument("--timeout", type=float, default=30)
    o = sub.add_parser("order")
    o.add_argument("url")
    o.add_argument("--count", type=int, required=True)
    o.add_argument("--user", default="demo")
    o.add_argument("--password", default="demo")
    args = p.parse_args()
    return wait(args) if args.command == "wait" else order(args)


if __name__ == "__main__":
    sys.exit(main())
