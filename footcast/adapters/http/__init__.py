"""The one HTTP client every scraper uses: ``client`` (:class:`HttpClient.fetch`, its results and
errors), ``politeness`` (the per-host rate limit, retries with backoff and Retry-After, proxies)
and ``archive`` (every version of a URL's bytes in ``http_archive``, conditional re-checks)."""
