"""End-to-end encryption plumbing: keys, cross-signing, to-device messages, device-list
tracking and server-side key backups (spec: client-server "End-to-End Encryption",
"Send-to-Device messaging"). The server never sees a private key or a plaintext: it
stores, hands out and signs nothing, only checks the shape and signatures of what
clients publish."""
