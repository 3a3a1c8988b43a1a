// Electron main: window, menu, native dialogs, window state, and the engine's lifecycle. Thin on
// purpose: everything else lives in the engine (utility process) and the renderer.
import { app, BrowserWindow, dialog, ipcMain, Menu, MessageChannelMain, net, protocol, session } from "electron";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { EngineProcessHost } from "../engine/service/transport/EngineProcessHost.js";
import { relayPort } from "../engine/service/transport/portRelay.js";
import { utilityProcessLauncher } from "./engineLauncher.js";
import { fileDialogKinds, ipcChannels, type FileDialogKind } from "./ipcContract.js";

const here = path.dirname(fileURLToPath(import.meta.url));          // dist/electron
const rendererDir = path.resolve(here, "..", "renderer");             // dist/renderer
const engineEntry = path.resolve(here, "..", "engine", "service", "transport", "utilityProcessMain.js");
const preloadPath = path.resolve(here, "preload.cjs");

// The renderer is served from app://tiller/ so that it gets real response headers (a strict CSP).
protocol.registerSchemesAsPrivileged([{ scheme: "app", privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
    "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

let mainWindow: BrowserWindow | undefined;
/** the engine's supervisor (the same host, restart policy and wire protocol as `tiller serve`'s), once it serves */
let engine: Promise<EngineProcessHost> | undefined;

// ---- window state -------------------------------------------------------------------------------

interface WindowState { x?: number; y?: number; width: number; height: number; maximized: boolean }
const windowStatePath = () => path.join(app.getPath("userData"), "window-state.json");

function readWindowState(): WindowState {
    try {
        const state = JSON.parse(fs.readFileSync(windowStatePath(), "utf8")) as Partial<WindowState>;
        if (typeof state.width === "number" && typeof state.height === "number")
            return { x: state.x, y: state.y, width: state.width, height: state.height, maximized: state.maximized === true };
    } catch {
        // first start, or a damaged file: use the defaults
    }
    return { width: 1400, height: 900, maximized: false };
}

function saveWindowState(window: BrowserWindow): void {
    const bounds = window.getNormalBounds();
    const state: WindowState = { ...bounds, maximized: window.isMaximized() };
    fs.mkdirSync(path.dirname(windowStatePath()), { recursive: true });
    fs.writeFileSync(windowStatePath(), JSON.stringify(state));
}

// ---- the engine (utility process) ---------------------------------------------------------------

/**
 * A new engine connection for the page that asked: main keeps one end of a channel and relays it
 * to the engine (frames validated there, request ids private to the connection), the page gets the
 * other end. When the engine crashes the host sends `engine.restarted` and closes the port; the
 * page's client then asks again.
 */
function connectPageToEngine(event: Electron.IpcMainEvent): void {
    // only our own window's top frame may connect
    if (engine == null || mainWindow == null || event.sender !== mainWindow.webContents || event.senderFrame !== mainWindow.webContents.mainFrame)
        return;
    const sender = event.sender;
    engine.then((host) => {
        if (sender.isDestroyed())
            return;
        const { port1, port2 } = new MessageChannelMain();
        relayPort(host, port1);
        sender.postMessage(ipcChannels.enginePort, null, [port2]);
    }, () => undefined); // a failed start was reported where it happened
}

/** Starts the engine's supervisor; a start that fails is shown (the window stays, disconnected). */
function startEngine(): void {
    engine = EngineProcessHost.start({ launch: utilityProcessLauncher(engineEntry) });
    engine.catch((error: unknown) => {
        console.error(error);
        dialog.showErrorBox("Tiller: the engine did not start", (error as Error).message);
    });
}

// ---- window, menu, dialogs ----------------------------------------------------------------------

async function chooseFile(kind: FileDialogKind): Promise<string | null> {
    const filters = kind === "dataset" ? [{ name: "Datasets", extensions: ["json", "jsonl", "txt"] }] : [{ name: "GGUF", extensions: ["gguf"] }];
    const options = { title: `Open ${kind}`, properties: ["openFile" as const], filters };
    const result = mainWindow != null ? await dialog.showOpenDialog(mainWindow, options) : await dialog.showOpenDialog(options);
    return result.canceled ? null : (result.filePaths[0] ?? null);
}

function buildMenu(): void {
    const isMac = process.platform === "darwin";
    Menu.setApplicationMenu(Menu.buildFromTemplate([
        ...(isMac ? [{ role: "appMenu" as const }] : []),
        {
            label: "File",
            submenu: [
                {
                    label: "Open Model…", accelerator: "CmdOrCtrl+O",
                    click: async () => {
                        const file = await chooseFile("model");
                        if (file != null)
                            mainWindow?.webContents.send(ipcChannels.openModel, file);
                    }
                },
                { type: "separator" },
                isMac ? { role: "close" as const } : { role: "quit" as const }
            ]
        },
        { role: "editMenu" as const },
        {
            label: "View",
            submenu: [{ role: "reload" as const }, { role: "toggleDevTools" as const }, { type: "separator" as const },
                { role: "resetZoom" as const }, { role: "zoomIn" as const }, { role: "zoomOut" as const }, { type: "separator" as const },
                { role: "togglefullscreen" as const }]
        },
        { role: "windowMenu" as const }
    ]));
}

function createWindow(modelToOpen: string | undefined): void {
    const state = readWindowState();
    const window = new BrowserWindow({
        x: state.x, y: state.y, width: state.width, height: state.height, minWidth: 900, minHeight: 600,
        title: "Tiller", backgroundColor: "#0f1115", show: false,
        webPreferences: { preload: preloadPath, contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true }
    });
    mainWindow = window;
    if (state.maximized)
        window.maximize();
    window.once("ready-to-show", () => window.show());
    window.on("close", () => saveWindowState(window));
    window.on("closed", () => {
        mainWindow = undefined;
    });
    // no navigation away from the app, no new windows (every web contents: see lockDownWebContents)
    window.webContents.on("did-finish-load", () => {
        if (modelToOpen != null)
            window.webContents.send(ipcChannels.openModel, modelToOpen);
    });
    void window.loadURL("app://tiller/index.html");
}

/** `--model FILE`; otherwise the toy world shipped in models/ (the project's default model), when present. */
function modelArgument(argv: readonly string[]): string | undefined {
    const index = argv.indexOf("--model");
    if (index >= 0)
        return argv[index + 1];
    if (argv.includes("--no-model"))
        return undefined;
    const shipped = app.isPackaged ? path.join(process.resourcesPath, "models", "toyworld.gguf") : path.join(app.getAppPath(), "models", "toyworld.gguf");
    return fs.existsSync(shipped) ? shipped : undefined;
}

/** No navigation, redirect, new window or webview for any web contents this app ever creates. */
function lockDownWebContents(contents: Electron.WebContents): void {
    contents.on("will-navigate", (event) => event.preventDefault());
    contents.on("will-redirect", (event) => event.preventDefault());
    contents.on("will-attach-webview", (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: "deny" }));
}

// one instance: two would share the data folder and fight over its sessions and window state
if (!app.requestSingleInstanceLock()) {
    app.quit();
} else {
    app.on("second-instance", (_event, argv) => {
        if (mainWindow == null)
            return;
        if (mainWindow.isMinimized())
            mainWindow.restore();
        mainWindow.focus();
        const index = argv.indexOf("--model");
        if (index >= 0 && argv[index + 1] != null)
            mainWindow.webContents.send(ipcChannels.openModel, argv[index + 1]);
    });
}
app.on("web-contents-created", (_event, contents) => lockDownWebContents(contents));

app.whenReady().then(() => {
    // Electron grants permission requests (camera, notifications, …) unless told otherwise: the lab needs none
    session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
    session.defaultSession.setPermissionCheckHandler(() => false);
    protocol.handle("app", async (request) => {
        const url = new URL(request.url);
        let pathname: string;
        try {
            pathname = decodeURIComponent(url.pathname);
        } catch {
            return new Response("bad request", { status: 400 });
        }
        if (pathname.includes("\0"))
            return new Response("bad request", { status: 400 });
        const file = path.resolve(rendererDir, "." + pathname);
        if (!file.startsWith(rendererDir + path.sep))
            return new Response("forbidden", { status: 403 });
        const response = await net.fetch(pathToFileURL(file).toString());
        const headers = new Headers(response.headers);
        headers.set("content-security-policy", contentSecurityPolicy);
        return new Response(response.body, { status: response.status, headers });
    });
    ipcMain.handle(ipcChannels.openFileDialog, async (event, kind: unknown) => {
        // only our own window may ask, and only for the kinds we know
        if (mainWindow == null || event.sender !== mainWindow.webContents || !fileDialogKinds.includes(kind as FileDialogKind))
            return null;
        return chooseFile(kind as FileDialogKind);
    });
    ipcMain.on(ipcChannels.connectEngine, connectPageToEngine);
    buildMenu();
    startEngine();
    createWindow(modelArgument(process.argv));
}).catch((error: unknown) => {
    console.error(error);
    app.exit(1);
});

app.on("before-quit", () => {
    void engine?.then((host) => host.dispose(), () => undefined);
});
app.on("window-all-closed", () => app.quit());
