# New in v2: "prices are stored in cents for the new payment provider". The data is converted,
# but the code still reads `price` as euros, so every price is now 100 times too high.
# Irreversible on purpose, like most data migrations in the wild: only a backup brings them back.
from django.db import migrations
from django.db.models import F


def prices_to_cents(apps, schema_editor):
    Product = apps.get_model("shop", "Product")
    Product.objects.update(price=F("price") * 100)


class Migration(migrations.Migration):

    dependencies = [("shop", "0001_initial")]

    operations = [migrations.RunPython(prices_to_cents)]
