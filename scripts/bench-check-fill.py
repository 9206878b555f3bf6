#!/usr/bin/env python3
"""Fills S3 buckets with backups for scripts/bench-check.sh: one real manifest (made by drctl,
target t0) copied under PER ids for each of TARGETS targets, its fields edited consistently so
every copy keeps the readers' rules (docs/FORMAT.md): backup_id, target, the times (in the past,
an hour apart) and each object's key under data/<target>/<id>/. The data objects are not copied:
check, list and report read manifests only.

A version 2 repository believes only manifests sealed for their place (docs/FORMAT.md,
"Version 2"), so each copy is sealed again as a writer holding the secret key KEY would: its data
key unwrapped and wrapped again for the copy's repository, target and id, `previous` naming the
target's copy before it (absent for the first), and its MAC and writer signature computed over its
exact bytes with those values zeroed, then written in place. `drctl list --json` shows every copy
as "signed".

usage: bench-check-fill.py ENDPOINT PREFIX KEY TARGETS PER BUCKET...
"""
import base64, concurrent.futures, datetime, hashlib, hmac, json, os, random, sys
import boto3
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

endpoint, prefix, key_file = sys.argv[1], sys.argv[2], sys.argv[3]
targets, per, buckets = int(sys.argv[4]), int(sys.argv[5]), sys.argv[6:]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
listed = s3.list_objects_v2(Bucket=buckets[0], Prefix=f"{prefix}/manifests/t0/")["Contents"]
template = json.loads(s3.get_object(Bucket=buckets[0], Key=listed[0]["Key"])["Body"].read())
marker = json.loads(s3.get_object(Bucket=buckets[0], Key=f"{prefix}/repository.json")["Body"].read())
repository_id = marker["repository_id"]
now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0) - datetime.timedelta(minutes=5)


def hkdf(ikm, info):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"", info=info).derive(ikm)


def context(purpose, target, backup):
    return f"drctl v2 {purpose}\0{repository_id}\0{target}\0{backup}\0".encode()


lines = [line.strip() for line in open(key_file) if line.strip() and not line.strip().startswith("#")]
secret = base64.b64decode(lines[0].split()[1])
kek = AESGCM(hkdf(secret, b"drctl v1 symmetric wrap"))
signer = Ed25519PrivateKey.from_private_bytes(hkdf(secret, b"drctl v2 signing key"))
wrapped = template["encryption"]["data_key"]
assert wrapped["scheme"] == "aes-256-gcm-hkdf-sha256", "the bench seals copies with a secret key (symmetric mode)"
data_key = kek.decrypt(base64.b64decode(wrapped["nonce"]), base64.b64decode(wrapped["ciphertext"]),
                       context("wrap", template["target"], template["backup_id"]))
mac_key = hkdf(data_key, b"drctl v2 manifest mac")
ZERO_MAC, ZERO_SIGNATURE = "0" * 64, "0" * 128


def stamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (moment.microsecond // 1000)


def sealed(copy):
    """The copy's stored bytes: written with zeros, then its MAC and signature put in place."""
    target, backup = copy["target"], copy["backup_id"]
    nonce = os.urandom(12)
    copy["encryption"]["data_key"] = dict(wrapped, nonce=base64.b64encode(nonce).decode(),
                                          ciphertext=base64.b64encode(kek.encrypt(nonce, data_key, context("wrap", target, backup))).decode())
    copy["authentication"] = dict(copy["authentication"], mac=ZERO_MAC, signature=ZERO_SIGNATURE)
    zeroed = (json.dumps(copy, indent=2, sort_keys=True, separators=(",", " : ")) + "\n").encode()
    message = context("manifest", target, backup) + zeroed
    mac = hmac.new(mac_key, message, hashlib.sha256).hexdigest()
    signature = signer.sign(message).hex()
    assert zeroed.count(b'"mac" : "') == 1 and zeroed.count(b'"signature" : "') == 1
    return (zeroed.replace(b'"mac" : "' + ZERO_MAC.encode(), b'"mac" : "' + mac.encode(), 1)
            .replace(b'"signature" : "' + ZERO_SIGNATURE.encode(), b'"signature" : "' + signature.encode(), 1))


def chain(target):
    """The target's copies, oldest first, each naming the one before it as its previous."""
    made, previous = [], None
    for number in range(per, 0, -1):
        started = now - datetime.timedelta(hours=number, milliseconds=random.randrange(1000))
        backup = started.strftime("%Y%m%dT%H%M%S.") + "%03dZ-%06x" % (started.microsecond // 1000, random.randrange(1 << 24))
        copy = json.loads(json.dumps(template))
        copy["target"], copy["backup_id"] = target, backup
        copy["started_at"] = stamp(started)
        copy["finished_at"] = copy["consistent_point"]["time"] = stamp(started + datetime.timedelta(seconds=1))
        for item in copy["objects"]:
            item["key"] = f"data/{target}/{backup}/{item['name']}"
        copy.pop("previous", None)
        if previous:
            copy["previous"] = {"backup_id": previous[0], "sha256": hashlib.sha256(previous[1]).hexdigest()}
        body = sealed(copy)
        made.append((f"{prefix}/manifests/{target}/{backup}.json", body))
        previous = (backup, body)
    return made


work = [entry for t in range(targets) for entry in chain(f"t{t}")]
with concurrent.futures.ThreadPoolExecutor(16) as pool:
    list(pool.map(lambda item: s3.put_object(Bucket=item[0], Key=item[1][0], Body=item[1][1]),
                  [(bucket, entry) for bucket in buckets for entry in work]))
print(f"{len(work)} manifests in each of {len(buckets)} buckets", file=sys.stderr)
