#!/usr/bin/env python3
"""Paramiko client for the e2e interoperability test.

usage: paramiko_client.py HOST PORT USER KEYFILE LOCAL NAME DOWNLOAD_DIR

Uploads LOCAL as in/NAME, waits for out/<NAME without extension>.ack in the
listing of out/, downloads it into DOWNLOAD_DIR and removes it from out/.
Prints one line per step; exits non-zero on any error.
"""
import os
import sys
import time

import paramiko


def main():
    host, port, user, keyfile, local, name, download = sys.argv[1:8]
    key = paramiko.Ed25519Key.from_private_key_file(keyfile)
    transport = paramiko.Transport((host, int(port)))
    transport.connect(username=user, pkey=key)  # host key is not checked: test server
    sftp = paramiko.SFTPClient.from_transport(transport)
    # put() stats the file after the upload (confirm=True) to compare sizes.
    attrs = sftp.put(local, "in/" + name)
    print("uploaded", name, attrs.st_size)
    ack = os.path.splitext(name)[0] + ".ack"
    deadline = time.time() + 15
    while ack not in sftp.listdir("out"):
        if time.time() > deadline:
            sys.exit("no %s in out/" % ack)
        time.sleep(0.1)
    print("listed", ack)
    sftp.get("out/" + ack, os.path.join(download, ack))
    print("downloaded", ack)
    sftp.remove("out/" + ack)
    print("removed", ack)
    try:
        sftp.open("in/" + name, "r").read()
        sys.exit("read back a file from in/")
    except IOError as e:
        print("read-back refused:", e)
    sftp.close()
    transport.close()


if __name__ == "__main__":
    main()
