"""A trade-caravan service: wagons loaded in the yard, sent along routes, traders paid at the end."""
