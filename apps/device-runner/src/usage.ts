/** `device-runner --help`. Kept next to the parser so both change together. */
export const USAGE = `Usage: device-runner run [options]
       device-runner --version

Connects an AWS IoT thing over mTLS MQTT, subscribes to a topic, publishes
N messages and waits until all come back (the seed's pubsub sample), then
disconnects -- or stays connected as a service with --forever.

Credentials (one of):
  --bucket <name>          read the thing's credential pointer <thing>/current.json
                           in S3, download the certificate and key it names, and
                           follow it: a rotated certificate is picked up without
                           a restart (endpoint: AWS_ENDPOINT_URL_S3; region:
                           --region / AWS_REGION)
    --credential-pointer-object-key <key>
                           read this pointer instead (the certificate resource's
                           CredentialPointerObjectKey)
    --certificate-object-key <key> --private-key-object-key <key>
                           download these fixed objects instead; not followed
  --cert <file> --key <file>
                           use files on disk (the key must be mode 0600); not followed
  --bucket <name> --claim-template <name> --claim-pointer-key <key>
    --thing-name-prefix <prefix> --device-id <id>
                           provision by claim (fleet provisioning): read the claim
                           certificate through its pointer in the bucket, connect
                           with it as <prefix><id>, make a key on this device,
                           get a certificate for it (CreateCertificateFromCsr),
                           register the thing through the template (RegisterThing,
                           parameter ThingName), delete the claim certificate and
                           key, and connect as the thing. Its key, certificate and
                           registration stay in <credentials-dir>/device/: a
                           restart connects with them. --thing may be left out

Options:
  --thing <name>           thing name, used as MQTT client id (required, except
                           when provisioning by claim)
  --endpoint <host>        AWS IoT data endpoint, xxxx-ats.iot.<region>.amazonaws.com (required)
  --port <n>               broker port (default 8883)
  --ca <file>              CA bundle for the broker (default: system trust store)
  --protocol mqtt3|mqtt5   MQTT version (default mqtt3)
  --topic <topic>          topic to subscribe and publish to (default test/topic)
  --count <n>              messages to publish (default 5; 0 with --forever just stays online)
  --message <text>         message text; sent as "<text> [i]" (default "Hello World!")
  --interval <ms>          milliseconds from one publish to the next; with --forever
                           it keeps publishing at that rate (default 0: no pause)
  --window <n>             QoS 1 publishes awaiting their PUBACK at once, 1-100
                           (default 32; AWS IoT allows 100 per connection)
  --forever                stay connected after the messages until SIGTERM/SIGINT
  --json                   one JSON object per output line
  --region <region>        region of the S3 bucket
  --credentials-dir <dir>  where downloaded credentials go (0700; default
                           $STATE_DIRECTORY or ~/.thingcert/credentials/<thing>)
  --credential-check-interval <ms>
                           how often to look at the pointer for a new certificate,
                           a conditional GET (default 30000, at least 100); it is
                           also read when the connection drops or is refused
  --refused-limit <n>      exit 75 after this many refused reconnects in a row while
                           the pointer still names the refused certificate (1-100,
                           default 5: about 30 s of reconnect backoff)
  --config <file.json>     JSON file with the same settings in camelCase
                           (bucket, thing, credentialPointerObjectKey,
                           certificateObjectKey, privateKeyObjectKey, cert, key, ca,
                           endpoint, port, topic, count, message, interval, window,
                           protocol, forever, json, region, credentialsDir,
                           credentialCheckInterval, refusedLimit, deviceId, and
                           claim: {templateName, claimCredentialPointerObjectKey,
                           thingNamePrefix})
  -h, --help               show this help
  --version                print the runner's version and exit

Environment (flags win over environment, environment over --config file):
  THINGCERT_BUCKET THINGCERT_THING THINGCERT_CREDENTIAL_POINTER_OBJECT_KEY
  THINGCERT_CERTIFICATE_OBJECT_KEY THINGCERT_PRIVATE_KEY_OBJECT_KEY THINGCERT_CERT
  THINGCERT_KEY THINGCERT_CA_FILE THINGCERT_ENDPOINT THINGCERT_MQTT_PORT
  THINGCERT_TOPIC THINGCERT_COUNT THINGCERT_MESSAGE THINGCERT_INTERVAL THINGCERT_WINDOW
  THINGCERT_PROTOCOL THINGCERT_FOREVER THINGCERT_JSON THINGCERT_REGION
  THINGCERT_CREDENTIALS_DIR THINGCERT_CREDENTIAL_CHECK_INTERVAL THINGCERT_REFUSED_LIMIT
  THINGCERT_CLAIM_TEMPLATE THINGCERT_CLAIM_POINTER_KEY THINGCERT_THING_NAME_PREFIX
  THINGCERT_DEVICE_ID THINGCERT_CONFIG

Exit status: 0 all messages came back (or --forever stopped by a signal),
1 runtime failure (the reason is printed), 2 bad usage, 75 the broker keeps
refusing the certificate the credential pointer names and the pointer names
no other, or its own certificate made by claim (a restart with backoff may
help; systemd restarts on it), 77 provisioning by claim refused for good (the
reason is printed; the systemd unit does not restart on it).

Example:
  device-runner run --bucket my-certs --thing thing-1 \\
    --endpoint abc123-ats.iot.eu-west-1.amazonaws.com --count 5
`;
