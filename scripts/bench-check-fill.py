#!/usr/bin/env python3
"""Fills S3 buckets with backups for scripts/bench-check.sh: one real manifest (made by drctl,
target t0) copied under PER ids for each of TARGETS targets, its fields edited consistently so
every copy keeps the readers' rules (docs/FORMAT.md): backup_id, target, the times (in the past,
an hour apart) and each object's key under data/<target>/<id>/. The data objects are not copied:
check, list and report read manifests only.

usage: bench-check-fill.py ENDPOINT PREFIX TARGETS PER BUCKET...
"""
import concurrent.futures, datetime, json, random, sys
import boto3

endpoint, prefix, targets, per, buckets = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
listed = s3.list_objects_v2(Bucket=buckets[0], Prefix=f"{prefix}/manifests/t0/")["Contents"]
template = json.loads(s3.get_object(Bucket=buckets[0], Key=listed[0]["Key"])["Body"].read())
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(minutes=5)

def stamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (moment.microsecond // 1000)

def manifest(target, number):
    started = now - datetime.timedelta(hours=number, milliseconds=random.randrange(1000))
    backup = started.strftime("%Y%m%dT%H%M%S.") + "%03dZ-%06x" % (started.microsecond // 1000, random.randrange(1 << 24))
    copy = json.loads(json.dumps(template))
    copy["target"], copy["backup_id"] = target, backup
    copy["started_at"] = stamp(started)
    copy["finished_at"] = copy["consistent_point"]["time"] = stamp(started + datetime.timedelta(seconds=1))
    for item in copy["objects"]:
        item["key"] = f"data/{target}/{backup}/{item['name']}"
    return f"{prefix}/manifests/{target}/{backup}.json", (json.dumps(copy, indent=2, sort_keys=True) + "\n").encode()

work = [manifest(f"t{t}", n) for t in range(targets) for n in range(1, per + 1)]
with concurrent.futures.ThreadPoolExecutor(16) as pool:
    list(pool.map(lambda item: s3.put_object(Bucket=item[0], Key=item[1][0], Body=item[1][1]),
                  [(bucket, entry) for bucket in buckets for entry in work]))
print(f"{len(work)} manifests in each of {len(buckets)} buckets", file=sys.stderr)
