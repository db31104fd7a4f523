"""The shop's data. Table names are fixed (db_table) because playbooks and reconciliation
queries name them in SQL: shop_product, shop_order, shop_order_item, shop_switch."""
from django.conf import settings
from django.db import models


class Product(models.Model):
    sku = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        db_table = "shop_product"
        ordering = ["sku"]


class Order(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    created_at = models.DateTimeField(auto_now_add=True)
    total = models.DecimalField(max_digits=14, decimal_places=2)
    # Which release took the order: after a rollback, reconciliation tells orders apart by it.
    release = models.CharField(max_length=32)

    class Meta:
        db_table = "shop_order"
        ordering = ["id"]


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField()
    # The price at checkout: later price changes never rewrite what a customer agreed to pay.
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        db_table = "shop_order_item"
        ordering = ["id"]


class SiteSwitch(models.Model):
    """An operator switch, flipped with SQL by the rollback playbook:
    UPDATE shop_switch SET enabled = false WHERE name = 'logins_enabled';"""

    name = models.CharField(max_length=64, primary_key=True)
    enabled = models.BooleanField()

    class Meta:
        db_table = "shop_switch"


SWITCHES = ("logins_enabled", "orders_enabled")


def switch_enabled(name):
    # A missing row means "on": the migration creates both rows, and a shop must not go dark
    # because an operator deleted a row instead of updating it.
    row = SiteSwitch.objects.filter(name=name).values_list("enabled", flat=True).first()
    return True if row is None else row
