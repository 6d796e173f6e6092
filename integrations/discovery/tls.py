"""What a BMC's certificate is, as a verdict an operator can act on."""

from __future__ import annotations

import ssl

from domain.discovery import TlsStatus

# OpenSSL X509_V_ERR_* codes (include/openssl/x509_vfy.h).
_VERDICTS = {
    10: TlsStatus.EXPIRED,  # CERT_HAS_EXPIRED
    18: TlsStatus.SELF_SIGNED,  # DEPTH_ZERO_SELF_SIGNED_CERT
    19: TlsStatus.SELF_SIGNED,  # SELF_SIGNED_CERT_IN_CHAIN
    62: TlsStatus.NAME_MISMATCH,  # HOSTNAME_MISMATCH
    64: TlsStatus.NAME_MISMATCH,  # IP_ADDRESS_MISMATCH
}


def verdict(error: ssl.SSLCertVerificationError) -> TlsStatus:
    return _VERDICTS.get(error.verify_code, TlsStatus.UNTRUSTED)
