// An Element-like Matrix client for the end-to-end tests: matrix-js-sdk with the Rust crypto
// (what Element Web and Desktop run), driven by line-delimited JSON on stdin/stdout.
//
// Each request is one line `{"id": 1, "cmd": "login", ...args}`; each answer is one line
// `{"id": 1, "ok": true, "result": ...}` or `{"id": 1, "ok": false, "error": "..."}`. Every
// timeline event the client sees is also written, once decrypted, as `{"event": {...}}`.
// stdout carries only this protocol: the SDK's own logging goes to stderr.
// The Python side is tests/element/jsclient.py.

import { createInterface } from "node:readline";
import { webcrypto, createHash } from "node:crypto";

// matrix-js-sdk 43 declares Node >= 22; on Node 20 only Promise.withResolvers is missing.
if (typeof Promise.withResolvers !== "function") {
    Promise.withResolvers = function withResolvers() {
        let resolve, reject;
        const promise = new this((res, rej) => { resolve = res; reject = rej; });
        return { promise, resolve, reject };
    };
}

// Keep stdout for the protocol: anything a library prints goes to stderr.
const protocolOut = process.stdout.write.bind(process.stdout);
for (const level of ["log", "info", "debug", "warn", "error", "trace"]) {
    console[level] = (...parts) => process.stderr.write(`[${level}] ${parts.map(String).join(" ")}\n`);
}

const sdk = await import("matrix-js-sdk");
const { logger } = await import("matrix-js-sdk/lib/logger.js");
const cryptoApi = await import("matrix-js-sdk/lib/crypto-api/index.js");
logger.setLevel(process.env.JSCLIENT_LOG_LEVEL || "warn");

function emit(message) {
    protocolOut(JSON.stringify(message) + "\n");
}

let client = null;
let password = null;

// ---- events -------------------------------------------------------------------------------

/** One received event as the test sees it: its clear type and content, and how it travelled. */
function describe(event) {
    return {
        event_id: event.getId(),
        room_id: event.getRoomId(),
        sender: event.getSender(),
        type: event.getType(),
        wire_type: event.getWireType(),
        state_key: event.getStateKey() ?? null,
        content: event.getContent(),
        relation: event.getRelation() ?? null,
        wire_relates_to: event.getWireContent()["m.relates_to"] ?? null,
        encrypted: event.isEncrypted(),
        decryption_failure: event.isDecryptionFailure() ? String(event.decryptionFailureReason) : null,
        shield: null,
        origin_server_ts: event.getTs(),
        received_at: Date.now(),
    };
}

async function onTimelineEvent(event) {
    if (event.isEncrypted()) {
        await client.decryptEventIfNeeded(event);
    }
    const described = describe(event);
    if (event.isEncrypted() && !event.isDecryptionFailure()) {
        // The shield Element draws on the message (e.g. red "UNSIGNED_DEVICE" for a device its
        // owner did not cross-sign), by enum name.
        const info = await client.getCrypto().getEncryptionInfoForEvent(event);
        described.shield = info && {
            colour: cryptoApi.EventShieldColour[info.shieldColour],
            reason: info.shieldReason === null ? null : cryptoApi.EventShieldReason[info.shieldReason],
        };
    }
    emit({ event: described });
}

// ---- attachments (the v2 encrypted-file format Element uses) -----------------------------

const b64 = (bytes) => Buffer.from(bytes).toString("base64").replace(/=+$/, "");
const b64url = (bytes) => b64(bytes).replace(/\+/g, "-").replace(/\//g, "_");

async function encryptAttachment(plain) {
    const rawKey = webcrypto.getRandomValues(new Uint8Array(32));
    const iv = new Uint8Array(16);
    webcrypto.getRandomValues(iv.subarray(0, 8)); // the counter half stays zero
    const key = await webcrypto.subtle.importKey("raw", rawKey, "AES-CTR", true, ["encrypt", "decrypt"]);
    const cipher = new Uint8Array(await webcrypto.subtle.encrypt(
        { name: "AES-CTR", counter: iv, length: 64 }, key, plain));
    const sha256 = createHash("sha256").update(cipher).digest();
    return {
        cipher,
        info: {
            v: "v2",
            key: { alg: "A256CTR", ext: true, k: b64url(rawKey), key_ops: ["encrypt", "decrypt"], kty: "oct" },
            iv: b64(iv),
            hashes: { sha256: b64(sha256) },
        },
    };
}

async function decryptAttachment(cipher, info) {
    const digest = b64(createHash("sha256").update(cipher).digest());
    if (digest !== info.hashes.sha256) throw new Error("attachment hash mismatch");
    const key = await webcrypto.subtle.importKey("jwk", info.key, "AES-CTR", false, ["decrypt"]);
    const iv = Buffer.from(info.iv, "base64");
    return new Uint8Array(await webcrypto.subtle.decrypt(
        { name: "AES-CTR", counter: iv, length: 64 }, key, cipher));
}

async function download(mxc) {
    const [server, mediaId] = mxc.replace("mxc://", "").split("/");
    const response = await fetch(
        `${client.baseUrl}/_matrix/client/v1/media/download/${server}/${mediaId}`,
        { headers: { Authorization: `Bearer ${client.getAccessToken()}` } });
    if (!response.ok) throw new Error(`download failed: ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
}

// ---- commands -----------------------------------------------------------------------------

function waitForSync() {
    return new Promise((resolve, reject) => {
        const onSync = (state) => {
            if (state === "PREPARED" || state === "SYNCING") {
                client.off(sdk.ClientEvent.Sync, onSync);
                resolve();
            } else if (state === "ERROR") {
                client.off(sdk.ClientEvent.Sync, onSync);
                reject(new Error("initial sync failed"));
            }
        };
        client.on(sdk.ClientEvent.Sync, onSync);
    });
}

/** Password login, in-memory Rust crypto, cross-signing set up the way Element does it. */
async function login({ homeserver, user_id, password: secret, device_name = "Element (tests)",
                       isolation = "all", cross_signing = true }) {
    password = secret;
    const bare = sdk.createClient({ baseUrl: homeserver });
    const answer = await bare.loginRequest({
        type: "m.login.password", identifier: { type: "m.id.user", user: user_id },
        password: secret, initial_device_display_name: device_name,
    });
    bare.stopClient();
    client = sdk.createClient({
        baseUrl: homeserver, userId: answer.user_id, deviceId: answer.device_id,
        accessToken: answer.access_token,
    });
    await client.initRustCrypto({ useIndexedDB: false });
    const crypto = client.getCrypto();
    if (isolation === "only_signed") {
        crypto.setDeviceIsolationMode(new cryptoApi.OnlySignedDevicesIsolationMode());
    } else {
        crypto.setDeviceIsolationMode(new cryptoApi.AllDevicesIsolationMode(false));
    }
    client.on(sdk.RoomEvent.Timeline, (event) => {
        onTimelineEvent(event).catch((error) => console.error("event", error?.message));
    });
    client.on(sdk.RoomEvent.MyMembership, (room, membership) => {
        emit({ membership: { room_id: room.roomId, membership } });
    });
    const synced = waitForSync();
    await client.startClient({ initialSyncLimit: 20 });
    await synced;
    if (cross_signing) {
        await crypto.bootstrapCrossSigning({
            setupNewCrossSigning: true,
            authUploadDeviceSigningKeys: uploadWithPassword,
        });
    }
    return {
        user_id: answer.user_id, device_id: answer.device_id, access_token: answer.access_token,
        cross_signing_ready: await crypto.isCrossSigningReady(),
    };
}

/** Element's user-interactive auth for the cross-signing upload: ask, then give the password. */
async function uploadWithPassword(makeRequest) {
    try {
        await makeRequest(null);
    } catch (error) {
        const session = error?.data?.session;
        if (error?.httpStatus !== 401 || !session) throw error;
        await makeRequest({
            type: "m.login.password", session, password,
            identifier: { type: "m.id.user", user: client.getUserId() },
        });
    }
}

const commands = {
    login,

    async create_room({ invite = [], is_direct = false, encrypted = true, name, preset,
                        initial_state = [], creation_content }) {
        const state = [...initial_state];
        if (encrypted) {
            state.push({ type: "m.room.encryption", state_key: "",
                         content: { algorithm: "m.megolm.v1.aes-sha2" } });
        }
        const options = { invite, is_direct, initial_state: state,
                          preset: preset || (is_direct ? "trusted_private_chat" : "private_chat") };
        if (name) options.name = name;
        if (creation_content) options.creation_content = creation_content;
        const { room_id } = await client.createRoom(options);
        return { room_id };
    },

    async join({ room_id }) {
        const room = await client.joinRoom(room_id);
        return { room_id: room.roomId };
    },

    /** Resolve once `user_id` has `membership` in the room, as this client's sync sees it. */
    async wait_member({ room_id, user_id, membership = "join", timeout_ms = 20000 }) {
        const deadline = Date.now() + timeout_ms;
        while (Date.now() < deadline) {
            const member = client.getRoom(room_id)?.getMember(user_id);
            if (member?.membership === membership) return { membership };
            await new Promise((resolve) => setTimeout(resolve, 50));
        }
        throw new Error(`${user_id} not ${membership} in ${room_id} within ${timeout_ms} ms`);
    },

    /** Send an event; in an encrypted room the SDK encrypts it as Element would. */
    async send({ room_id, type, content, thread_id = null }) {
        const { event_id } = await client.sendEvent(room_id, thread_id, type, content);
        return { event_id };
    },

    async send_state({ room_id, type, content, state_key = "" }) {
        const { event_id } = await client.sendStateEvent(room_id, type, content, state_key);
        return { event_id };
    },

    /** The room's current state of one type (and key) as this client's sync knows it. */
    async room_state({ room_id, type, state_key = "" }) {
        const event = client.getRoom(room_id)?.currentState.getStateEvents(type, state_key);
        return event ? { content: event.getContent(), sender: event.getSender() } : null;
    },

    /** Any client-server API call with this client's token (for features without a helper). */
    async request({ method, path, body, query, prefix = "/_matrix/client/v3" }) {
        return await client.http.authedRequest(method, path, query, body, { prefix });
    },

    /** Element's "Remove": a redaction, sent in clear as the spec requires. */
    async redact({ room_id, event_id, reason }) {
        const answer = await client.redactEvent(room_id, event_id, undefined,
                                                reason ? { reason } : undefined);
        return { event_id: answer.event_id };
    },

    async upload_encrypted({ data_b64, mimetype = "application/octet-stream" }) {
        const { cipher, info } = await encryptAttachment(Buffer.from(data_b64, "base64"));
        const { content_uri } = await client.uploadContent(Buffer.from(cipher),
            { type: "application/octet-stream", includeFilename: false });
        return { file: { ...info, url: content_uri, mimetype } };
    },

    async download_encrypted({ file }) {
        const plain = await decryptAttachment(await download(file.url), file);
        return { data_b64: Buffer.from(plain).toString("base64") };
    },

    async download_raw({ url }) {
        return { data_b64: Buffer.from(await download(url)).toString("base64") };
    },

    async device_status({ user_id, device_id }) {
        await client.getCrypto().getUserDeviceInfo([user_id], true); // track and download
        const status = await client.getCrypto().getDeviceVerificationStatus(user_id, device_id);
        return status && { signed_by_owner: status.signedByOwner,
                           cross_signing_verified: status.crossSigningVerified };
    },

    async user_has_cross_signing({ user_id }) {
        return { has_keys: await client.getCrypto().userHasCrossSigningKeys(user_id, true) };
    },

    async stop() {
        client?.stopClient();
        setTimeout(() => process.exit(0), 10);
        return {};
    },
};

const input = createInterface({ input: process.stdin });
input.on("line", async (line) => {
    let request;
    try {
        request = JSON.parse(line);
        const { id, cmd, ...args } = request;
        if (!(cmd in commands)) throw new Error(`unknown command ${cmd}`);
        if (cmd !== "login" && !client) throw new Error("login first");
        emit({ id, ok: true, result: await commands[cmd](args) });
    } catch (error) {
        emit({ id: request?.id ?? null, ok: false,
               error: `${error?.name || "Error"}: ${error?.message || error}`,
               errcode: error?.errcode ?? null, http_status: error?.httpStatus ?? null });
    }
});
input.on("close", () => {
    client?.stopClient();
    process.exit(0);
});
