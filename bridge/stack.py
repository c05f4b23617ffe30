"""Running the product: `confrere up` (Synapse as a child process, then the service and the bot)
and `confrere serve` (the service and the bot only, next to a Synapse run elsewhere)."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import time
from pathlib import Path
from typing import Awaitable, Callable

from bridge.config import Settings
from bridge.homeserver import render_synapse_config
from bridge.service import ConfrereService
from bridge.supervisor import SynapseProcess, wait_until_ready

log = logging.getLogger(__name__)

ENDPOINTS_FILE = "endpoints.json"


def endpoints(settings: Settings, service: ConfrereService) -> dict:
    """What a newcomer, a script or an integrator needs to connect (no secrets)."""
    admin = service.context.admin
    return {
        "server_name": settings.server_name,
        "homeserver_url": settings.synapse.client_url,
        "web_url": settings.service.url,
        "health_url": f"{settings.service.url}/_confrere/health",
        "bot_user_id": settings.bot_user_id,
        "bot_device_id": service.bot.device_id if service.bot else None,
        "admin_user_id": admin.user_id if admin else None,
        "admin_credentials_file": str(settings.data_dir / "admin.json"),
        "signup_url": f"{settings.service.url}/signup",
        "mail": service.mail.describe(),
        "sms": ({"mode": "dev_sink", "inbox_url": f"{settings.service.url}/_dev/sms"}
                if settings.sms.dev_sink else {"mode": "provider"}),
        "logs_dir": str(settings.logs_dir),
        "data_dir": str(settings.data_dir),
    }


async def directory_summary(service: ConfrereService) -> dict:
    """How many practitioners the directory holds, and whether it is the bundled sample."""
    from bridge.directory.sample import is_sample
    from bridge.directory.store import DirectoryStore

    last = await DirectoryStore(service.database).last_import()
    return {"practitioners": await service.directory.count(),
            "sample": is_sample(last.source if last else None),
            "imported_at": last.finished_at.isoformat() if last and last.finished_at else None}


def summary(info: dict, elapsed: float, first_run: bool) -> str:
    run = "premier démarrage" if first_run else "données réutilisées"
    return "\n".join([
        "",
        f"Confrère est prêt en {elapsed:.1f} s ({run}).",
        f"  Serveur Matrix (Element ou tout client) : {info['homeserver_url']}",
        f"  Pages web du service                    : {info['web_url']}",
        f"  Robot à contacter en message direct     : {info['bot_user_id']}",
        f"  Compte administrateur                   : {info['admin_user_id']}"
        f" (mot de passe dans {info['admin_credentials_file']})",
        f"  Inscription des praticiens              : {info['signup_url']}",
        f"  Courriel                                : {_mail_line(info['mail'])}",
        f"  SMS aux patients                        : {_sms_line(info.get('sms'))}",
        f"  Annuaire                                : {_directory_line(info.get('directory'))}",
        f"  Journaux                                : {info['logs_dir']}",
        f"  Les mêmes informations en JSON          : {Path(info['data_dir']) / ENDPOINTS_FILE}",
        "Pour l'exploitation :",
        f"  État de chaque partie   : confrere --data {info['data_dir']} status",
        f"  Sauvegarde (à chaud)    : confrere --data {info['data_dir']} backup  — base, secrets, "
        "clés du robot, médias",
        "  Nommer un administrateur : ajoutez son identifiant Matrix à verification.administrators"
        " dans confrere.yaml, puis redémarrez",
        "Ctrl-C pour tout arrêter proprement.",
        "",
    ])


def _directory_line(directory: dict | None) -> str:
    if directory is None:
        return "inconnu"
    count = directory["practitioners"]
    if not count:
        return "vide — importez l'extrait national : confrere directory import FICHIER"
    if directory["sample"]:
        return (f"ÉCHANTILLON de démonstration ({count} praticiens) — extrait national : "
                "confrere directory import FICHIER")
    return f"{count} praticiens"


def _sms_line(sms: dict | None) -> str:
    if sms and sms.get("mode") == "dev_sink":
        return f"boîte de développement {sms['inbox_url']} (rien n'est envoyé)"
    return "fournisseur HTTP configuré (sms.provider_url)"


def _mail_line(mail: dict) -> str:
    if mail.get("mode") == "dev_catcher":
        return (f"boîte de développement {mail['mailbox_url']} "
                f"(rien n'est envoyé ; SMTP local {mail['smtp']})")
    return f"relais SMTP {mail['smtp']} ({mail.get('tls')})"


async def run_stack(settings: Settings, first_run: bool, *, with_synapse: bool = True) -> int:
    """Start everything, print where to connect, run until Ctrl-C/SIGTERM, stop cleanly."""
    started = time.monotonic()
    stop_event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_event.set)
    synapse = SynapseProcess(render_synapse_config(settings), settings.synapse.url,
                             settings.logs_dir / "synapse.stdout.log") if with_synapse else None
    service = ConfrereService(settings)
    endpoints_path = settings.data_dir / ENDPOINTS_FILE

    async def start_all() -> None:
        print("Démarrage du service Confrère…", flush=True)
        await service.start_http()
        if synapse is not None:
            print("Démarrage de Synapse…", flush=True)
            await synapse.start()
        else:
            print(f"Attente de Synapse sur {settings.synapse.url}…", flush=True)
            await wait_until_ready(f"{settings.synapse.url}/_matrix/client/versions", 600)
        print("Démarrage du robot…", flush=True)
        await service.start_matrix()
        if synapse is not None and service.sso_logo_changed:
            # the login button's logo exists only once Synapse stores it: show it now
            print("Redémarrage de Synapse pour le logo Pro Santé Connect…", flush=True)
            await synapse.stop()
            render_synapse_config(settings)
            await synapse.start()
        if settings.directory.sample_on_first_start:
            from bridge.directory.sample import import_sample_if_empty

            if await import_sample_if_empty(service.directory):
                print("Annuaire vide : échantillon de démonstration importé.", flush=True)

    try:
        if not await _until_stopped(start_all(), stop_event):
            return 130
        info = {**endpoints(settings, service), "directory": await directory_summary(service)}
        endpoints_path.write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n")
        print(summary(info, time.monotonic() - started, first_run), flush=True)
        watcher = asyncio.create_task(_watch(synapse, stop_event)) if synapse else None
        await stop_event.wait()
        if watcher is not None:
            watcher.cancel()
        print("Arrêt en cours…", flush=True)
        return 0 if synapse is None or synapse.process is not None else 1
    except Exception as exc:  # noqa: BLE001 - report clearly, then stop what started
        log.exception("start-up failed")
        print(f"Échec du démarrage : {exc}\nVoir les journaux dans {settings.logs_dir}", flush=True)
        return 1
    finally:
        endpoints_path.unlink(missing_ok=True)
        await service.stop()
        if synapse is not None:
            await synapse.stop()
        print("Confrère est arrêté.", flush=True)


async def _until_stopped(work: Awaitable[None], stop_event: asyncio.Event) -> bool:
    """Run `work` unless a stop is asked first (Ctrl-C during start-up); True if it finished."""
    working = asyncio.ensure_future(work)
    stopping = asyncio.create_task(stop_event.wait())
    await asyncio.wait({working, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not working.done():
        working.cancel()
        await asyncio.gather(working, return_exceptions=True)
        return False
    stopping.cancel()
    working.result()
    return True


async def _watch(synapse: SynapseProcess, stop_event: asyncio.Event) -> None:
    """If Synapse dies, stop everything rather than run half a product."""
    process = synapse.process
    if process is None:
        return
    await process.wait()
    log.error("Synapse exited with code %s", process.returncode)
    print("Synapse s'est arrêté de façon inattendue ; arrêt de Confrère.", flush=True)
    synapse.process = None
    stop_event.set()
