"""Every bound on what spacefold is asked to make, in one place.

The command line, :func:`spacefold.render` and the app (``spacefold serve``) read these
names, and so does the library under them (datasets, architectures, training, traces, data
files); none of them copies a number. A bound here limits size, work or time (pixels, frames,
points, widths, depth, epochs, bytes, things alive at once), so that no command or request can
exhaust memory or CPU. What a value *means* (a learning rate in (0, 1], a test fraction up to
a half) stays with the code that validates it. Bounds are inclusive.

A base module: it imports nothing, and every layer may read it.
"""

from __future__ import annotations

# -- the library: sf.dataset, sf.build, sf.train, sf.trace (the CLI inherits these) ---------------
MAX_DATASET_POINTS = 1_000_000   # points of one generated dataset (sf.dataset, --n)
MAX_DATASET_CLASSES = 20         # classes (spiral arms, Gaussian blobs) of a generated dataset
MAX_SEED = 2**32 - 1             # a generator's seed (scikit-learn's random_state limit)
MAX_WIDTH = 4096                 # units of one layer of an architecture ("2-100-5")
MAX_LAYERS = 32                  # linear layers of an architecture
MAX_EPOCHS = 1_000_000           # epochs of one sf.train / `spacefold train`
MAX_RECORDING_BYTES = 1 << 30    # weights one training recording holds (1 GiB)
MAX_POINTS = 2_000_000           # points one sf.trace carries through a network
MAX_MAP_PIXELS = 16_000_000      # pixels of one exact region map (Trace.region_map)
MAX_PIECES = 2_000_000           # linear regions one Trace.linear_regions enumerates

# -- data files: sf.from_csv, sf.from_npz, the MNIST reader ---------------------------------------
MAX_NPZ_VALUES = 50_000_000      # numbers in one NPZ array: 200 MB as float32
MAX_IDX_VALUES = 400_000_000     # values an MNIST IDX header may claim (train: 47 M pixels)
MAX_LABEL = 999                  # a class label read from a file

# -- videos and stills: sf.render, `spacefold render` and `spacefold tour` ------------------------
MIN_SIZE = (16, 16)          # (width, height) of a frame, pixels
MAX_SIZE = (3840, 2160)
MIN_FPS = 1.0                # the command line's floor: below a frame a second GIF delays
                             # overflow and encoders refuse the rate (sf.render takes > 0)
MAX_FPS = 120.0
MAX_FRAMES = 100_000         # frames of one video
MAX_HOLD = 10.0              # seconds a video pauses at each stage (and the longest cross-fade)
MAX_DURATION = 600.0         # seconds a whole video may last
MAX_TOUR_JOBS = 16           # scenes `spacefold tour` renders at once, each in its process

# -- the viewer's data: `spacefold export`, sf.render(.html), the app and the notebook widget ------
VIEWER_MAX_POINTS = 200_000      # points of one page: more makes a page no browser draws smoothly
VIEWER_MAX_WEIGHTS = 65_536      # weights of one layer sent for the network diagram
VIEWER_MAX_PIECE_EDGES = 10_000  # linear regions' edges sent (the longest, when there are more)
VIEWER_MAX_PIECES = 20_000       # pieces after a layer beyond which none are drawn (~3 s to find)

# -- `spacefold train` ----------------------------------------------------------------------------
MIN_SNAPSHOTS = 2            # weight snapshots a --movie / --record keeps
MAX_SNAPSHOTS = 1000

# -- the app (`spacefold serve`): a session's config ----------------------------------------------
APP_MIN_POINTS = 20          # the fewest a config makes; removing points stops there
APP_MAX_POINTS = 5000        # points generated, uploaded or added by clicks
APP_MAX_CLASSES = 10
APP_MAX_WIDTH = 256          # units of one hidden layer
APP_MAX_HIDDEN = 6           # hidden layers
APP_MAX_EPOCHS = 100_000
APP_MAX_ARCH_CHARS = 64      # the architecture string ("2-100-5")
APP_MAX_ACTIVATION_CHARS = 200   # the activations, comma-separated
APP_MAX_COORDINATE = 1e4     # |x|, |y| of a point added by a click

# -- the app: the server as a whole ---------------------------------------------------------------
MAX_JOBS = 12                # jobs alive at once (training sessions + exports): a session's
                             # config beyond it is an error message, an export a 429
MAX_SESSIONS = 32            # open WebSockets; the next handshake gets 429
EXPORT_WORK = 2e10           # weights x training points x epochs one /api/export may train
                             # (the default 2-100-5 on 800 points for 5000 epochs: 3.2e9)
EXPORT_SECONDS = 60.0        # wall time of one export's training, whatever the machine's load
EXPORT_MAX_EPOCHS = 20_000
MAX_UPLOAD = 1_000_000       # bytes of one uploaded CSV
MAX_UPLOADS = 32             # uploaded datasets kept; the oldest is forgotten first

# -- the app's videos (the Render button) ---------------------------------------------------------
APP_VIDEO_MIN_SIDE = 64      # pixels
APP_VIDEO_MAX_SIZE = (1280, 720)
APP_VIDEO_MAX_FPS = 30
APP_VIDEO_MAX_FRAMES = 1200  # the layers story of a 2-100-5 net: ~330 frames at 30 fps
MAX_RENDERS = 2              # videos rendering at once in the process (two cores)
MAX_VIDEOS_KEPT = 16         # finished videos kept for download; the oldest is deleted first

# -- the app's requests and commands --------------------------------------------------------------
MAX_JSON = 64 * 1024         # bytes of a JSON body
MAX_JSON_DEPTH = 32          # nesting of a body or command ({"cmd", "config": {...}} is 2)
MAX_JSON_DIGITS = 30         # digits of one JSON number (every bound here fits in 10)
MAX_MESSAGE = 64 * 1024      # bytes of one WebSocket command
