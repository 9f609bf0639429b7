# The .deb: Debian's own Qt, dependencies computed from the binaries (dpkg-shlibdeps) plus what
# Qt loads at run time. Checked on Debian 12 with `dpkg -S`: the xcb and offscreen platform
# plugins ship in libqt6gui6, the TLS backends (wss://) in libqt6network6 (which pulls libssl3);
# Wayland sessions want qt6-wayland.
set(CPACK_PACKAGE_NAME feedscope)
set(CPACK_PACKAGE_VENDOR "The FeedScope developers")
set(CPACK_PACKAGE_CONTACT "The FeedScope developers <developers@feedscope.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Live monitor for pools of WebSocket market-data subscriptions")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "FeedScope watches a pool of WebSocket connections carrying many market-data and account
subscriptions (Hyperliquid first): rates, the connection carrying each subscription, connection
health, every reconnect and what came back. Includes feedscope-sim, a local server speaking the
same protocol with the real server's limits and faults.")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_VERBATIM_VARIABLES ON)
set(CPACK_GENERATOR DEB)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libqt6gui6 (>= 6.4), libqt6network6 (>= 6.4)")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "qt6-wayland")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE ${PROJECT_HOMEPAGE_URL})
set(CPACK_STRIP_FILES ON)
include(CPack)
