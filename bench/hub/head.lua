-- wrk script: send HEAD instead of GET (run_hub_bench.py probes whether this wrk build can
-- measure HEAD at all: wrk 4.1's response parser does not know the request was HEAD and waits
-- for Content-Length bytes of body that never come, so it completes 0 requests).
wrk.method = "HEAD"
