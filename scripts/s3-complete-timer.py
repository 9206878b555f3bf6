#!/usr/bin/env python3
"""The part of a backup's wall time that happens in the server after the last byte
(scripts/bench-s3.sh): CompleteMultipartUpload, which S3 answers at once but moto answers by
copying every part into one object (about 0.5 s per 150 MiB), one request at a time (Python's GIL).

No client can overlap that with its own work: the uploads can only complete once the stream has
ended, and a backup into N regions ends in N completes at the same moment. This script repeats
that ending without drctl: N uploads (one per bucket) of SIZE random bytes in 5 MiB parts with
SHA-256 checksums, as drctl sends them, then the N completes at once; it prints the wall seconds
of the completes and the server's CPU seconds meanwhile, as a results line of bench-lib.sh's
format (`LABEL wall rss machine_cpu server_cpu`, rss 0):

  s3-complete-timer.py ENDPOINT SERVER_PID SIZE LABEL BUCKET...

bench-summary.py --tail uses the median of those lines.
"""
import base64
import hashlib
import os
import sys
import threading
import time

import boto3

PART = 5 << 20
endpoint, pid, size, label, buckets = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5:]
hz = os.sysconf("SC_CLK_TCK")


def server_cpu():
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / hz


def machine_cpu():
    fields = open("/proc/stat").readline().split()[1:]
    return sum(int(fields[i]) for i in (0, 1, 2, 5, 6)) / hz   # user nice system irq softirq


s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
data = os.urandom(size)
uploads = []
for bucket in buckets:
    key = "complete-timer"
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm="SHA256")["UploadId"]
    parts = []
    for number, start in enumerate(range(0, size, PART), 1):
        body = data[start:start + PART]
        checksum = base64.b64encode(hashlib.sha256(body).digest()).decode()
        etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=number, Body=body,
                              ChecksumSHA256=checksum)["ETag"]
        parts.append({"PartNumber": number, "ETag": etag, "ChecksumSHA256": checksum})
    uploads.append((bucket, key, upload, parts))

errors = []


def complete(bucket, key, upload, parts):
    try:
        s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})
    except Exception as error:   # reported below: a failed complete is no measurement
        errors.append(error)


threads = [threading.Thread(target=complete, args=u) for u in uploads]
cpu_before, machine_before, start = server_cpu(), machine_cpu(), time.monotonic()
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
wall = time.monotonic() - start
cpu, machine = server_cpu() - cpu_before, machine_cpu() - machine_before
for bucket, key, _, _ in uploads:
    s3.delete_object(Bucket=bucket, Key=key)
if errors:
    sys.exit(f"s3-complete-timer: {errors[0]}")
print(f"{label} {wall:.2f} 0 {machine:.2f} {cpu:.2f}")
