"""Paging of every REST list: `?limit=` and `?offset=` as DRF has them, with the page size capped
(a huge `limit` is read as the cap; without one, a client could ask the database for
everything at once, and a limit past 2**63 made the query itself fail)."""

from rest_framework.pagination import LimitOffsetPagination

MAX_PAGE_SIZE = 500


class Pagination(LimitOffsetPagination):
    max_limit = MAX_PAGE_SIZE
    limit_query_description = f"Number of results to return per page (at most {MAX_PAGE_SIZE})."
