"""The media repository: uploads, downloads and thumbnails of local media.

spec: client-server "Content repository". The bytes are files under
``media_store_path`` (``files``), their metadata rows in the database
(``homeserver.storage.media_store``); ``repository.MediaRepository`` ties them
together. Pillow (``sniff``, ``thumbnails``) is imported only when an image is
checked or thumbnailed, never at start.
"""
