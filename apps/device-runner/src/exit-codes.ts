/**
 * The runner's exit statuses, one meaning each, so a service manager (systemd
 * `RestartForceExitStatus=`, `SuccessExitStatus=`) and scripts can tell them apart.
 */

/** All messages came back, or a `--forever` run was stopped by SIGTERM/SIGINT. */
export const EXIT_SUCCESS = 0;

/** Runtime failure; the reason and what to check were printed (`error: …` or `internal error: …`). */
export const EXIT_FAILURE = 1;

/** Bad flags, environment or config file; the problem and the usage were printed. */
export const EXIT_USAGE = 2;

/**
 * The broker keeps refusing the certificate the credential pointer names and
 * the pointer names no other (`refusedLimit` refused reconnects in a row, or
 * the first connect refused): nothing this process can do will help, a
 * restart with backoff may (the pointer may move, the certificate may be
 * reactivated). 75 is `EX_TEMPFAIL` of sysexits.h: "try again later".
 */
export const EXIT_CREDENTIALS_REFUSED = 75;

/**
 * Provisioning by claim was refused for good: AWS IoT rejected
 * `RegisterThing` or `CreateCertificateFromCsr` with a final answer (403
 * `AccessDenied` from the pre-provisioning hook or the provisioning role, an
 * unknown or disabled template, a bad request); the reason was printed. A
 * restart would only ask again and be refused again, so the shipped systemd
 * unit has `RestartPreventExitStatus=77`: the service stays failed until an
 * operator (or a new instance) starts it. Throttling that outlasts the
 * retries is a runtime failure (1), restarted. 77 is `EX_NOPERM` of sysexits.h.
 */
export const EXIT_REGISTRATION_REJECTED = 77;
