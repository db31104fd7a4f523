"""`manage.py seed`: the demo catalogue with known prices, the demo/demo customer (demo@shop.example), both operator
switches on. Idempotent: running it again resets exactly these rows and touches nothing else."""
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from shop.models import SWITCHES, Product, SiteSwitch

PRODUCTS = [
    ("MUG-1", "Coffee mug", Decimal("12.50")),
    ("NOTE-1", "Notebook", Decimal("4.75")),
    ("TEE-1", "T-shirt", Decimal("19.99")),
]


class Command(BaseCommand):
    help = "Create the demo products, the demo/demo user and the operator switches."

    @transaction.atomic
    def handle(self, *args, **options):
        for sku, name, price in PRODUCTS:
            Product.objects.update_or_create(sku=sku, defaults={"name": name, "price": price})
        user, _ = get_user_model().objects.get_or_create(username="demo")
        user.email = "demo@shop.example"  # order confirmations go here
        user.set_password("demo")
        user.save()
        for name in SWITCHES:
            SiteSwitch.objects.update_or_create(name=name, defaults={"enabled": True})
        self.stdout.write(f"seeded {len(PRODUCTS)} products, user demo, switches {', '.join(SWITCHES)}")
