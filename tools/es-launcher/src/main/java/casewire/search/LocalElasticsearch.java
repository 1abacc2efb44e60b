package casewire.search;

import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.LowerCaseFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.charfilter.HTMLStripCharFilter;
import org.apache.lucene.analysis.charfilter.MappingCharFilter;
import org.apache.lucene.analysis.charfilter.NormalizeCharMap;
import org.apache.lucene.analysis.core.KeywordTokenizer;
import org.apache.lucene.analysis.core.LetterTokenizer;
import org.apache.lucene.analysis.core.SimpleAnalyzer;
import org.apache.lucene.analysis.core.UpperCaseFilter;
import org.apache.lucene.analysis.core.WhitespaceAnalyzer;
import org.apache.lucene.analysis.core.WhitespaceTokenizer;
import org.apache.lucene.analysis.el.GreekLowerCaseFilter;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.ga.IrishLowerCaseFilter;
import org.apache.lucene.analysis.miscellaneous.ASCIIFoldingFilter;
import org.apache.lucene.analysis.miscellaneous.TrimFilter;
import org.apache.lucene.analysis.ngram.EdgeNGramTokenFilter;
import org.apache.lucene.analysis.ngram.EdgeNGramTokenizer;
import org.apache.lucene.analysis.ngram.NGramTokenFilter;
import org.apache.lucene.analysis.ngram.NGramTokenizer;
import org.apache.lucene.analysis.pattern.PatternReplaceCharFilter;
import org.apache.lucene.analysis.pattern.PatternTokenizer;
import org.apache.lucene.analysis.standard.StandardAnalyzer;
import org.apache.lucene.analysis.tr.TurkishLowerCaseFilter;
import org.apache.lucene.util.SetOnce;
import org.elasticsearch.Build;
import org.elasticsearch.client.internal.node.NodeClient;
import org.elasticsearch.cluster.metadata.IndexNameExpressionResolver;
import org.elasticsearch.cluster.node.DiscoveryNodes;
import org.elasticsearch.cluster.service.ClusterService;
import org.elasticsearch.common.bytes.BytesArray;
import org.elasticsearch.common.io.stream.NamedWriteableRegistry;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.regex.Regex;
import org.elasticsearch.common.settings.ClusterSettings;
import org.elasticsearch.common.settings.IndexScopedSettings;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.common.settings.SettingsFilter;
import org.elasticsearch.env.Environment;
import org.elasticsearch.features.NodeFeature;
import org.elasticsearch.index.IndexSettings;
import org.elasticsearch.index.analysis.AbstractIndexAnalyzerProvider;
import org.elasticsearch.index.analysis.Analysis;
import org.elasticsearch.index.analysis.AnalyzerProvider;
import org.elasticsearch.index.analysis.CharFilterFactory;
import org.elasticsearch.index.analysis.NormalizingCharFilterFactory;
import org.elasticsearch.index.analysis.NormalizingTokenFilterFactory;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.plugins.ActionPlugin;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.PluginBundle;
import org.elasticsearch.plugins.PluginsLoader;
import org.elasticsearch.rest.BaseRestHandler;
import org.elasticsearch.rest.RestController;
import org.elasticsearch.rest.RestHandler;
import org.elasticsearch.rest.RestRequest;
import org.elasticsearch.rest.RestResponse;
import org.elasticsearch.rest.RestStatus;
import org.elasticsearch.xcontent.XContentBuilder;

import java.io.Reader;
import java.lang.reflect.Constructor;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.IntPredicate;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import static org.elasticsearch.rest.RestRequest.Method.GET;
import static org.elasticsearch.rest.RestRequest.Method.HEAD;

/**
 * Runs a single real Elasticsearch node in this JVM, for local development and tests.
 *
 * <p>Elastic publishes the server jar and the transport-netty4 plugin to Maven Central, but not the
 * distribution's modules. So instead of the official launcher (CLI + entitlements + modules/ dir of jars),
 * this class does the essential part of {@code org.elasticsearch.bootstrap.Elasticsearch} itself:
 * prepare an {@link Environment}, configure logging, load plugins, construct and start a {@link Node}.
 * Skipped on purpose: entitlements/security manager, native seccomp/mlockall, the "not as root" check and
 * production bootstrap checks (those only enforce on non-loopback binds anyway).
 *
 * <p>Plugins: a generated {@code modules/} directory holds one {@code plugin-descriptor.properties} per
 * plugin (no jars); the plugin classes themselves come from the application classpath, see
 * {@link #classpathPluginsLoader}. Loaded: transport-netty4 (HTTP), and the nested stand-ins below for the
 * unpublished analysis-common and rest-root modules.
 *
 * <p>Usage: {@code java -cp ... casewire.search.LocalElasticsearch <baseDir> [httpPort] [-Ekey=value ...]}
 * <br>Layout under baseDir: {@code data/ logs/ config/ modules/ plugins/}.
 * <br>Environment: {@code ES_PORT} (http, default 9200), {@code ES_TRANSPORT_PORT} (default 9300-9399),
 * {@code ES_NODE_NAME} (default casewire-local-1).
 */
public final class LocalElasticsearch {

    private LocalElasticsearch() {}

    public static void main(String[] args) {
        try {
            run(args);
        } catch (Throwable t) {
            // stderr is redirected into log4j once logging is configured; log once, cleanly, and exit non-zero
            org.apache.logging.log4j.LogManager.getLogger(LocalElasticsearch.class).error("startup failed", t);
            System.exit(1);
        }
    }

    private static void run(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: LocalElasticsearch <baseDir> [httpPort] [-Ekey=value ...]");
            System.exit(2);
        }
        Path base = Path.of(args[0]).toAbsolutePath().normalize();
        String httpPort = env("ES_PORT", "9200");
        Settings.Builder extra = Settings.builder();
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (a.startsWith("-E") && a.contains("=")) {
                int eq = a.indexOf('=');
                extra.put(a.substring(2, eq), a.substring(eq + 1));
            } else if (a.matches("\\d+")) {
                httpPort = a;
            } else {
                throw new IllegalArgumentException("unknown argument: " + a);
            }
        }

        for (String dir : List.of("data", "logs", "config", "plugins")) {
            Files.createDirectories(base.resolve(dir));
        }
        writeLoggingConfig(base.resolve("config"));
        // modules/ is generated: rewritten on every start so it always matches the classes on the classpath.
        Path modules = base.resolve("modules");
        if (Files.exists(modules)) {
            try (var walk = Files.walk(modules)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
        writeModuleDescriptor(modules, "transport-netty4", "org.elasticsearch.transport.netty4.Netty4Plugin",
            "Netty 4 based HTTP and transport layer (classpath)");
        writeModuleDescriptor(modules, "casewire-analysis-common", CommonAnalysisPlugin.class.getName(),
            "Subset of the analysis-common module (keyword/ngram/mapping/...), re-implemented on Lucene classes");
        writeModuleDescriptor(modules, "casewire-rest-root", RestRootPlugin.class.getName(),
            "GET|HEAD / (the rest-root module is not on Maven Central; clients ping/info through it)");

        String nodeName = env("ES_NODE_NAME", "casewire-local-1");
        Settings settings = Settings.builder()
            .put("cluster.name", "casewire-local")
            .put("node.name", nodeName)
            .put("path.home", base.toString())
            .put("path.data", base.resolve("data").toString())
            .put("path.logs", base.resolve("logs").toString())
            // one node, loopback only: no discovery, no bootstrap checks (they only enforce on non-loopback binds)
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", httpPort)
            .put("transport.port", env("ES_TRANSPORT_PORT", "9300-9399"))
            // dev machines often have full-ish disks; never block allocation / flip indices read-only
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put(extra.build())
            .build();

        // Same order as the official bootstrap: environment -> logging -> plugins -> node.
        Environment environment = InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), null, () -> nodeName);
        LogConfigurator.registerErrorListener();
        LogConfigurator.setClusterName("casewire-local");
        LogConfigurator.setNodeName(nodeName);
        LogConfigurator.configure(environment, false);

        PluginsLoader pluginsLoader = classpathPluginsLoader(PluginsLoader.loadModulesBundles(environment.modulesDir()));

        long t0 = System.nanoTime();
        Node node = new Node(environment, pluginsLoader);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "casewire-es-shutdown"));
        node.start();
        org.apache.logging.log4j.LogManager.getLogger(LocalElasticsearch.class)
            .info("casewire local elasticsearch {} started on http://127.0.0.1:{} in {} ms",
                Build.current().version(), httpPort, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        // Elasticsearch's own threads are daemon threads: keep the JVM alive until SIGTERM/SIGINT.
        stopped.await();
    }

    /**
     * A {@link PluginsLoader} whose plugin layers resolve every plugin class from the application class loader.
     *
     * <p>The public factory ({@code createPluginsLoader}) gives each bundle its own class loader over the jars in
     * its directory, and {@code PluginsService} then insists the plugin class comes from exactly that loader. Our
     * plugins live on the classpath (that is the point: no distribution zip), so we build the loader through its
     * package-private constructor, as the test framework's classpath plugins effectively do. The server jar is on
     * the classpath (unnamed module), so {@code setAccessible} needs no --add-opens. Pinned to 8.19.x.
     */
    private static PluginsLoader classpathPluginsLoader(Set<PluginBundle> modules) throws Exception {
        ClassLoader appLoader = LocalElasticsearch.class.getClassLoader();
        Map<String, PluginsLoader.PluginLayer> layers = new LinkedHashMap<>();
        for (PluginBundle bundle : modules) {
            layers.put(bundle.pluginDescriptor().getName(), new PluginsLoader.PluginLayer() {
                @Override public PluginBundle pluginBundle() { return bundle; }
                @Override public ClassLoader pluginClassLoader() { return appLoader; }
                @Override public ModuleLayer pluginModuleLayer() { return ModuleLayer.boot(); }
            });
        }
        Constructor<PluginsLoader> ctor = PluginsLoader.class.getDeclaredConstructor(Set.class, Set.class, Map.class);
        ctor.setAccessible(true);
        return ctor.newInstance(modules, Set.of(), layers);
    }

    private static String env(String name, String dflt) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? dflt : v;
    }

    private static void writeModuleDescriptor(Path modules, String name, String className, String description) throws Exception {
        Path dir = Files.createDirectories(modules.resolve(name));
        String props = "name=" + name + "\n"
            + "description=" + description + "\n"
            + "version=" + Build.current().version() + "\n"
            + "elasticsearch.version=" + Build.current().version() + "\n"
            + "java.version=17\n"
            + "classname=" + className + "\n";
        Files.writeString(dir.resolve("plugin-descriptor.properties"), props, StandardCharsets.UTF_8);
    }

    /** Writes a log4j2 config (unless the user supplied one) logging to logs/casewire-local.log. */
    private static void writeLoggingConfig(Path config) throws Exception {
        Path file = config.resolve("log4j2.properties");
        if (Files.exists(file)) {
            return;
        }
        String props = String.join("\n",
            "status = error",
            "appender.rolling.type = RollingFile",
            "appender.rolling.name = rolling",
            "appender.rolling.fileName = ${sys:es.logs.base_path}${sys:file.separator}${sys:es.logs.cluster_name}.log",
            "appender.rolling.filePattern = ${sys:es.logs.base_path}${sys:file.separator}${sys:es.logs.cluster_name}-%i.log",
            "appender.rolling.layout.type = PatternLayout",
            "appender.rolling.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n",
            "appender.rolling.policies.type = Policies",
            "appender.rolling.policies.size.type = SizeBasedTriggeringPolicy",
            "appender.rolling.policies.size.size = 64MB",
            "appender.rolling.strategy.type = DefaultRolloverStrategy",
            "appender.rolling.strategy.max = 4",
            "rootLogger.level = info",
            "rootLogger.appenderRef.rolling.ref = rolling",
            // deprecation warnings are still returned to clients as HTTP Warning headers
            "logger.deprecation.name = org.elasticsearch.deprecation",
            "logger.deprecation.level = error",
            "");
        Files.writeString(file, props, StandardCharsets.UTF_8);
    }

    /**
     * Stand-in for the rest-root module: {@code GET /} (cluster/version info) and {@code HEAD /} (ping). Core has
     * no handler for "/", and official clients use it for {@code info()} / {@code ping()}.
     */
    public static final class RestRootPlugin extends Plugin implements ActionPlugin {
        private final SetOnce<ClusterService> clusterService = new SetOnce<>();

        @Override
        public Collection<?> createComponents(PluginServices services) {
            clusterService.set(services.clusterService());
            return List.of();
        }

        @Override
        public Collection<RestHandler> getRestHandlers(Settings settings, NamedWriteableRegistry registry, RestController controller,
            ClusterSettings clusterSettings, IndexScopedSettings indexScopedSettings, SettingsFilter settingsFilter,
            IndexNameExpressionResolver resolver, Supplier<DiscoveryNodes> nodes, Predicate<NodeFeature> clusterSupportsFeature) {
            return List.of(new BaseRestHandler() {
                @Override public String getName() { return "main_action"; }

                @Override public List<Route> routes() { return List.of(new Route(GET, "/"), new Route(HEAD, "/")); }

                @Override
                protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
                    return channel -> {
                        if (request.method() == HEAD) {
                            channel.sendResponse(new RestResponse(RestStatus.OK, RestResponse.TEXT_CONTENT_TYPE, BytesArray.EMPTY));
                            return;
                        }
                        ClusterService cs = clusterService.get();
                        Build build = Build.current();
                        XContentBuilder b = channel.newBuilder();
                        b.startObject()
                            .field("name", cs.localNode().getName())
                            .field("cluster_name", cs.getClusterName().value())
                            .field("cluster_uuid", cs.state().metadata().clusterUUID())
                            .startObject("version")
                            .field("number", build.qualifiedVersion())
                            .field("build_flavor", build.flavor())
                            .field("build_type", build.type().displayName())
                            .field("build_hash", build.hash())
                            .field("build_date", build.date())
                            .field("build_snapshot", build.isSnapshot())
                            .field("lucene_version", org.apache.lucene.util.Version.LATEST.toString())
                            .field("minimum_wire_compatibility_version", build.minWireCompatVersion())
                            .field("minimum_index_compatibility_version", build.minIndexCompatVersion())
                            .endObject()
                            .field("tagline", "You Know, for Search")
                            .endObject();
                        channel.sendResponse(new RestResponse(RestStatus.OK, b));
                    };
                }
            });
        }
    }

    /**
     * Stand-in for the analysis-common module, which is not on Maven Central. Core Elasticsearch only ships
     * the {@code standard} tokenizer/analyzer, the {@code keyword} analyzer, {@code stop}/{@code shingle}/
     * {@code hunspell} token filters and a pre-configured {@code lowercase} filter. Everything below is
     * registered under the name analysis-common uses, with the same main settings, so index mappings written
     * for a stock Elasticsearch work unchanged.
     */
    public static final class CommonAnalysisPlugin extends Plugin implements AnalysisPlugin {

        @Override
        public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
            Map<String, AnalysisProvider<TokenizerFactory>> m = new TreeMap<>();
            m.put("keyword", (is, env, name, s) -> {
                int bufferSize = s.getAsInt("buffer_size", KeywordTokenizer.DEFAULT_BUFFER_SIZE);
                return TokenizerFactory.newFactory(name, () -> new KeywordTokenizer(bufferSize));
            });
            m.put("whitespace", (is, env, name, s) -> {
                int max = s.getAsInt("max_token_length", StandardAnalyzer.DEFAULT_MAX_TOKEN_LENGTH);
                return TokenizerFactory.newFactory(name, () -> new WhitespaceTokenizer(TokenStream.DEFAULT_TOKEN_ATTRIBUTE_FACTORY, max));
            });
            m.put("letter", (is, env, name, s) -> TokenizerFactory.newFactory(name, LetterTokenizer::new));
            m.put("ngram", (is, env, name, s) -> ngramTokenizer(is, name, s, false));
            m.put("edge_ngram", (is, env, name, s) -> ngramTokenizer(is, name, s, true));
            m.put("pattern", (is, env, name, s) -> {
                Pattern p = Regex.compile(s.get("pattern", "\\W+"), s.get("flags"));
                int group = s.getAsInt("group", -1);
                return TokenizerFactory.newFactory(name, () -> new PatternTokenizer(p, group));
            });
            return m;
        }

        @Override
        public Map<String, AnalysisProvider<CharFilterFactory>> getCharFilters() {
            Map<String, AnalysisProvider<CharFilterFactory>> m = new TreeMap<>();
            m.put("mapping", requiresSettings((is, env, name, s) -> {
                List<String> rules = Analysis.getWordList(env, s, "mappings");
                if (rules == null) {
                    throw new IllegalArgumentException("mapping requires either `mappings` or `mappings_path` to be configured");
                }
                NormalizeCharMap map = parseMappings(rules);
                return charFilter(name, r -> new MappingCharFilter(map, r));
            }));
            m.put("pattern_replace", requiresSettings((is, env, name, s) -> {
                String pattern = s.get("pattern");
                if (pattern == null || pattern.isEmpty()) {
                    throw new IllegalArgumentException("pattern is missing for [" + name + "] char filter of type 'pattern_replace'");
                }
                Pattern p = Regex.compile(pattern, s.get("flags"));
                String replacement = s.get("replacement", "");
                return charFilter(name, r -> new PatternReplaceCharFilter(p, replacement, r));
            }));
            m.put("html_strip", (is, env, name, s) -> {
                List<String> escaped = s.getAsList("escaped_tags");
                java.util.Set<String> tags = escaped.isEmpty() ? null : new java.util.HashSet<>(escaped);
                return new CharFilterFactory() {
                    @Override public String name() { return name; }
                    @Override public Reader create(Reader r) { return tags == null ? new HTMLStripCharFilter(r) : new HTMLStripCharFilter(r, tags); }
                };
            });
            return m;
        }

        @Override
        public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
            Map<String, AnalysisProvider<TokenFilterFactory>> m = new TreeMap<>();
            // core only has a pre-configured "lowercase"; this adds {"type": "lowercase", "language": ...}
            m.put("lowercase", (is, env, name, s) -> {
                String lang = s.get("language");
                Function<TokenStream, TokenStream> f;
                if (lang == null) {
                    f = LowerCaseFilter::new;
                } else {
                    f = switch (lang.toLowerCase(Locale.ROOT)) {
                        case "greek" -> GreekLowerCaseFilter::new;
                        case "irish" -> IrishLowerCaseFilter::new;
                        case "turkish" -> TurkishLowerCaseFilter::new;
                        default -> throw new IllegalArgumentException("language [" + lang + "] not supported for lowercase filter");
                    };
                }
                return normalizing(name, f);
            });
            m.put("uppercase", (is, env, name, s) -> normalizing(name, UpperCaseFilter::new));
            m.put("trim", (is, env, name, s) -> normalizing(name, TrimFilter::new));
            m.put("asciifolding", (is, env, name, s) -> {
                boolean preserve = s.getAsBoolean("preserve_original", false);
                return new NormalizingTokenFilterFactory() {
                    @Override public String name() { return name; }
                    @Override public TokenStream create(TokenStream ts) { return new ASCIIFoldingFilter(ts, preserve); }
                    // multi-term queries (wildcard/prefix/fuzzy) must see a single folded token
                    @Override public TokenStream normalize(TokenStream ts) { return new ASCIIFoldingFilter(ts, false); }
                };
            });
            m.put("ngram", (is, env, name, s) -> {
                int min = s.getAsInt("min_gram", 1);
                int max = s.getAsInt("max_gram", 2);
                checkNgramDiff(is, "NGram Token Filter", min, max);
                boolean preserve = s.getAsBoolean("preserve_original", false);
                return filter(name, ts -> new NGramTokenFilter(ts, min, max, preserve));
            });
            m.put("edge_ngram", (is, env, name, s) -> {
                int min = s.getAsInt("min_gram", 1);
                int max = s.getAsInt("max_gram", 2);
                boolean preserve = s.getAsBoolean("preserve_original", false);
                if ("back".equalsIgnoreCase(s.get("side", "front"))) {
                    throw new IllegalArgumentException("edge_ngram side=back is not supported by this launcher");
                }
                return filter(name, ts -> new EdgeNGramTokenFilter(ts, min, max, preserve));
            });
            return m;
        }

        @Override
        public Map<String, AnalysisProvider<AnalyzerProvider<? extends Analyzer>>> getAnalyzers() {
            Map<String, AnalysisProvider<AnalyzerProvider<? extends Analyzer>>> m = new TreeMap<>();
            m.put("whitespace", (is, env, name, s) -> analyzer(name, s, new WhitespaceAnalyzer()));
            m.put("simple", (is, env, name, s) -> analyzer(name, s, new SimpleAnalyzer()));
            m.put("english", (is, env, name, s) -> analyzer(name, s, new EnglishAnalyzer(
                Analysis.parseStopWords(env, s, EnglishAnalyzer.getDefaultStopSet()),
                Analysis.parseStemExclusion(s, CharArraySet.EMPTY_SET))));
            return m;
        }

        // ---- helpers -------------------------------------------------------------------------------------

        private static TokenizerFactory ngramTokenizer(IndexSettings is, String name, Settings s, boolean edge) {
            int min = s.getAsInt("min_gram", 1);
            int max = s.getAsInt("max_gram", 2);
            if (edge == false) {
                checkNgramDiff(is, "NGram Tokenizer", min, max);
            }
            IntPredicate tokenChar = parseTokenChars(s);
            return TokenizerFactory.newFactory(name, () -> {
                if (tokenChar == null) {
                    return edge ? new EdgeNGramTokenizer(min, max) : new NGramTokenizer(min, max);
                }
                return edge
                    ? new EdgeNGramTokenizer(min, max) { @Override protected boolean isTokenChar(int c) { return tokenChar.test(c); } }
                    : new NGramTokenizer(min, max) { @Override protected boolean isTokenChar(int c) { return tokenChar.test(c); } };
            });
        }

        /** Same limit and message as stock Elasticsearch (index.max_ngram_diff, default 1). */
        private static void checkNgramDiff(IndexSettings is, String what, int min, int max) {
            int allowed = is.getMaxNgramDiff();
            if (max - min > allowed) {
                throw new IllegalArgumentException("The difference between max_gram and min_gram in " + what
                    + " must be less than or equal to: [" + allowed + "] but was [" + (max - min) + "]. This limit can be set by"
                    + " changing the [" + IndexSettings.MAX_NGRAM_DIFF_SETTING.getKey() + "] index level setting.");
            }
        }

        /** token_chars: letter, digit, whitespace, punctuation, symbol, custom (+ custom_token_chars). */
        private static IntPredicate parseTokenChars(Settings s) {
            List<String> classes = s.getAsList("token_chars");
            if (classes.isEmpty()) {
                return null;
            }
            List<IntPredicate> preds = new ArrayList<>();
            for (String c : classes) {
                switch (c.trim().toLowerCase(Locale.ROOT)) {
                    case "letter" -> preds.add(Character::isLetter);
                    case "digit" -> preds.add(Character::isDigit);
                    case "whitespace" -> preds.add(Character::isWhitespace);
                    case "punctuation" -> preds.add(ch -> switch (Character.getType(ch)) {
                        case Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.START_PUNCTUATION,
                            Character.END_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION, Character.FINAL_QUOTE_PUNCTUATION,
                            Character.OTHER_PUNCTUATION -> true;
                        default -> false;
                    });
                    case "symbol" -> preds.add(ch -> switch (Character.getType(ch)) {
                        case Character.MATH_SYMBOL, Character.CURRENCY_SYMBOL, Character.MODIFIER_SYMBOL, Character.OTHER_SYMBOL -> true;
                        default -> false;
                    });
                    case "custom" -> {
                        String custom = s.get("custom_token_chars");
                        if (custom == null) {
                            throw new IllegalArgumentException("Token type: 'custom' requires setting `custom_token_chars`");
                        }
                        int[] cps = custom.codePoints().toArray();
                        preds.add(ch -> java.util.Arrays.stream(cps).anyMatch(x -> x == ch));
                    }
                    default -> throw new IllegalArgumentException("Unknown token type: '" + c
                        + "', must be one of [letter, digit, whitespace, punctuation, symbol, custom]");
                }
            }
            return ch -> preds.stream().anyMatch(p -> p.test(ch));
        }

        /** Parses "a => b" rules (backslash escapes \\n \\t \\r \\uXXXX etc. allowed), as the mapping char filter does. */
        static NormalizeCharMap parseMappings(List<String> rules) {
            NormalizeCharMap.Builder b = new NormalizeCharMap.Builder();
            for (String rule : rules) {
                int arrow = rule.indexOf("=>");
                if (arrow < 0) {
                    throw new IllegalArgumentException("Invalid Mapping Rule : [" + rule + "]");
                }
                String from = unescape(rule.substring(0, arrow).trim());
                String to = unescape(rule.substring(arrow + 2).trim());
                if (from.isEmpty()) {
                    throw new IllegalArgumentException("Invalid Mapping Rule : [" + rule + "]. Illegal mapping.");
                }
                b.add(from, to);
            }
            return b.build();
        }

        private static String unescape(String s) {
            StringBuilder out = new StringBuilder(s.length());
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c != '\\' || i + 1 >= s.length()) {
                    out.append(c);
                    continue;
                }
                char n = s.charAt(++i);
                switch (n) {
                    case 'n' -> out.append('\n');
                    case 't' -> out.append('\t');
                    case 'r' -> out.append('\r');
                    case 'b' -> out.append('\b');
                    case 'f' -> out.append('\f');
                    case 'u' -> {
                        if (i + 4 >= s.length()) {
                            throw new IllegalArgumentException("Invalid escaped char in [" + s + "]");
                        }
                        out.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                        i += 4;
                    }
                    default -> out.append(n);
                }
            }
            return out.toString();
        }

        private static NormalizingCharFilterFactory charFilter(String name, Function<Reader, Reader> f) {
            return new NormalizingCharFilterFactory() {
                @Override public String name() { return name; }
                @Override public Reader create(Reader r) { return f.apply(r); }
            };
        }

        /** Filters usable in normalizers (keyword fields) and for multi-term query normalization. */
        private static NormalizingTokenFilterFactory normalizing(String name, Function<TokenStream, TokenStream> f) {
            return new NormalizingTokenFilterFactory() {
                @Override public String name() { return name; }
                @Override public TokenStream create(TokenStream ts) { return f.apply(ts); }
            };
        }

        private static TokenFilterFactory filter(String name, Function<TokenStream, TokenStream> f) {
            return new TokenFilterFactory() {
                @Override public String name() { return name; }
                @Override public TokenStream create(TokenStream ts) { return f.apply(ts); }
            };
        }

        private static <A extends Analyzer> AnalyzerProvider<A> analyzer(String name, Settings s, A analyzer) {
            return new AbstractIndexAnalyzerProvider<A>(name, s) {
                @Override public A get() { return analyzer; }
            };
        }

        /** Marks a provider as unusable without explicit settings (so it is not pre-built under its bare name). */
        private static <T> AnalysisProvider<T> requiresSettings(AnalysisProvider<T> p) {
            return new AnalysisProvider<T>() {
                @Override
                public T get(IndexSettings is, Environment env, String name, Settings s) throws java.io.IOException {
                    return p.get(is, env, name, s);
                }

                @Override
                public boolean requiresAnalysisSettings() {
                    return true;
                }
            };
        }
    }
}
