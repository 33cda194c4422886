"""The outbound side of federation: per-destination queues of ``/send`` transactions."""
