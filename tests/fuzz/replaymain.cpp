// Runs a libFuzzer target without libFuzzer (any compiler, every build): each file given, each
// file in each directory given, and every prefix of each (truncated messages), through
// LLVMFuzzerTestOneInput. A crash or trap fails the test like the fuzzer would.
#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <cstdint>
#include <cstdio>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    int inputs = 0;
    for (int i = 1; i < argc; ++i) {
        const QString arg = QString::fromLocal8Bit(argv[i]);
        QStringList files;
        if (QFileInfo(arg).isDir())
            for (const QFileInfo &f : QDir(arg).entryInfoList(QDir::Files, QDir::Name))
                files.append(f.filePath());
        else
            files.append(arg);
        for (const QString &path : std::as_const(files)) {
            QFile f(path);
            if (!f.open(QIODevice::ReadOnly)) {
                std::fprintf(stderr, "cannot read %s\n", qPrintable(path));
                return 1;
            }
            const QByteArray bytes = f.readAll();
            for (qsizetype n = 0; n <= bytes.size(); ++n, ++inputs)
                LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(bytes.constData()),
                                       static_cast<size_t>(n));
        }
    }
    std::printf("%d inputs, 0 failed\n", inputs);
    return 0;
}
