from django.contrib import admin
from django.urls import path

from shop import views

urlpatterns = [
    path("", views.index),
    path("health/", views.health),
    path("api/products/", views.api_products),
    path("api/login/", views.api_login),
    path("api/logout/", views.api_logout),
    path("api/cart/", views.api_cart),
    path("api/cart/add/", views.api_cart_add),
    path("api/checkout/", views.api_checkout),
    path("api/orders/", views.api_orders),
    path("admin/", admin.site.urls),
]
