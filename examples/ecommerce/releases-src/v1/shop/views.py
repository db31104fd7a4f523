"""HTTP endpoints. /api/ is the JSON interface that scripts, tests and the rollback playbook's
verification steps drive with plain HTTP; it authenticates with the session cookie set by
/api/login/ and is exempt from CSRF tokens because it serves scripted clients, not browsers."""
import logging
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.core.mail import send_mail
from django.db import DatabaseError, connection, transaction
from django.http import HttpResponse, JsonResponse
from django.utils.html import format_html_join
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from .models import Order, OrderItem, Product, SiteSwitch, switch_enabled

log = logging.getLogger("shop")


def _json(data, status=200):
    # Compact separators: verification steps match substrings such as "status":"ok".
    return JsonResponse(data, status=status, json_dumps_params={"separators": (",", ":")})


def _error(status, message, **extra):
    return _json({"error": message, **extra}, status=status)


def _login_required(view):
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return _error(401, "login required: POST username and password to /api/login/")
        return view(request, *args, **kwargs)

    return wrapped


@require_GET
def health(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        products = Product.objects.count()
        switches = dict(SiteSwitch.objects.values_list("name", "enabled"))
    except DatabaseError as e:
        first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return _json(
            {"status": "error", "release": settings.SHOP_RELEASE, "database": first_line}, status=503
        )
    return _json(
        {
            "status": "ok",
            "release": settings.SHOP_RELEASE,
            "database": "ok",
            "products": products,
            "logins_enabled": switches.get("logins_enabled", True),
            "orders_enabled": switches.get("orders_enabled", True),
        }
    )


@require_GET
def index(request):
    rows = format_html_join(
        "\n", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", Product.objects.values_list("sku", "name", "price")
    )
    return HttpResponse(
        f"<!doctype html><title>Example shop</title>"
        f"<link rel=\"stylesheet\" href=\"{settings.STATIC_URL}shop/shop.css\"><h1>Example shop ({settings.SHOP_RELEASE})</h1>"
        f"<table><tr><th>SKU</th><th>Product</th><th>Price</th></tr>\n{rows}\n</table>"
    )


@require_GET
def api_products(request):
    products = [
        {"id": p.id, "sku": p.sku, "name": p.name, "price": str(p.price)} for p in Product.objects.all()
    ]
    return _json({"products": products})


@csrf_exempt
@require_POST
def api_login(request):
    if not switch_enabled("logins_enabled"):
        return _error(503, "logins are temporarily disabled by the operator", switch="logins_enabled")
    user = authenticate(
        request, username=request.POST.get("username", ""), password=request.POST.get("password", "")
    )
    if user is None:
        return _error(401, "invalid username or password")
    login(request, user)
    return _json({"user": user.get_username()})


@csrf_exempt
@require_POST
def api_logout(request):
    logout(request)
    return _json({"user": None})


def _cart_lines(cart):
    products = Product.objects.in_bulk([int(pid) for pid in cart])
    return [(products[int(pid)], qty) for pid, qty in cart.items() if int(pid) in products]


def _cart_json(cart):
    lines = _cart_lines(cart)
    return {
        "items": [{"sku": p.sku, "quantity": q, "unit_price": str(p.price)} for p, q in lines],
        "total": str(sum((p.price * q for p, q in lines), Decimal("0"))),
    }


@require_GET
@_login_required
def api_cart(request):
    return _json(_cart_json(request.session.get("cart", {})))


@csrf_exempt
@require_POST
@_login_required
def api_cart_add(request):
    """POST product=<sku or id>&quantity=<n> (quantity defaults to 1)."""
    key = request.POST.get("product", "")
    product = Product.objects.filter(id=int(key)).first() if key.isdigit() else Product.objects.filter(sku=key).first()
    if product is None:
        return _error(404, f"no such product: {key!r}")
    try:
        quantity = int(request.POST.get("quantity", "1"))
    except ValueError:
        quantity = 0
    if not 1 <= quantity <= 100:
        return _error(400, "quantity must be an integer from 1 to 100")
    cart = request.session.get("cart", {})
    cart[str(product.id)] = cart.get(str(product.id), 0) + quantity
    request.session["cart"] = cart
    return _json(_cart_json(cart))


def _send_order_mail(user, order, lines):
    """The customer's order confirmation, once the order is committed. A mail server that is down
    does not undo the order: the failure is logged (stderr) and the checkout still answers 201."""
    if not user.email:
        return
    body = "".join(f"{q} x {p.sku} {p.name} at {p.price}\n" for p, q in lines)
    body += f"Total: {order.total}\nTaken by release {order.release}.\n"
    try:
        send_mail(f"Order {order.id} confirmed", body, None, [user.email])
    except OSError as e:
        log.error("order %s: confirmation mail to %s not sent: %s", order.id, user.email, e)


@csrf_exempt
@require_POST
@_login_required
def api_checkout(request):
    if not switch_enabled("orders_enabled"):
        return _error(503, "new orders are temporarily disabled by the operator; nothing was charged",
                      switch="orders_enabled")
    lines = _cart_lines(request.session.get("cart", {}))
    if not lines:
        return _error(400, "the cart is empty")
    with transaction.atomic():
        order = Order.objects.create(user=request.user, total=Decimal("0"), release=settings.SHOP_RELEASE)
        OrderItem.objects.bulk_create(
            OrderItem(order=order, product=p, quantity=q, unit_price=p.price) for p, q in lines
        )
        order.total = sum((p.price * q for p, q in lines), Decimal("0"))
        order.save(update_fields=["total"])
    request.session["cart"] = {}
    _send_order_mail(request.user, order, lines)
    return _json({"order": order.id, "total": str(order.total), "release": order.release}, status=201)


@require_GET
@_login_required
def api_orders(request):
    orders = [
        {
            "order": o.id,
            "created_at": o.created_at.isoformat(),
            "total": str(o.total),
            "release": o.release,
            "items": [
                {"sku": i.product.sku, "quantity": i.quantity, "unit_price": str(i.unit_price)}
                for i in o.items.all()
            ],
        }
        for o in request.user.orders.prefetch_related("items__product")
    ]
    return _json({"orders": orders})
